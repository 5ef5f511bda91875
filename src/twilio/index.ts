/** The twilio feature's public module: what other features may use. */
export { createTwilioRest, type TwilioRest, TwilioRestError } from './rest.js';
export {
  type TwilioEnv,
  type TwilioParams,
  twilioParam,
  twilioSignature,
  unsupportedMediaType,
  verifiedTwilioRequest,
} from './signature.js';
export { createTwilioVerify, type TwilioVerify, TwilioVerifyError, VERIFY_ERRORS } from './verify.js';
