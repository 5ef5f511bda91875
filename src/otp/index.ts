/** Every one-time code callerpop sends: the toll-fraud budget and the record of each send. */
export {
  type BudgetRefusal,
  CALLER_VERIFICATION_PURPOSE,
  type DeliveryRefusal,
  type DestinationRefusal,
  destinationRefusal,
  hashOtpCode,
  NON_GEOGRAPHIC,
  PHONE_VERIFICATION_PURPOSE,
  reserveBudget,
  reserveDelivery,
} from './budget.js';
export {
  countRecentDeliveries,
  findLastSentOtp,
  insertOtpDelivery,
  listOtpDeliveries,
  type OtpDeliveryRow,
  updateOtpDelivery,
} from './queries.js';
export { OTP_CHANNELS, type OtpChannel, type OtpStatus } from './schema.js';
