import type { OtpChannel, PhoneSource } from '../db/schema.js';
import type { DeliveryFlow, DeliveryPurpose, EventUser, PhoneDeliverEvent } from './events.js';
import { isPasswordlessUser } from './lifecycle.js';

/**
 * What a delivered phone message means for the index, by the sign-in flow it belongs to. Under the Unified
 * Phone Experience one provider serves MFA, passwordless and phone-as-identifier, and Auth0 does not say
 * which message_type each flow sends (auth0/docs-v2 main/docs/customize/phone-messages/unified-phone/
 * configure-unified-phone.mdx, "Before you start"; Auth0's own passwordless sample handles `otp_verify`,
 * unified-phone-experience-passwordless.mdx). So the flow decides, not the message type:
 *  - an MFA code makes an MFA link (unverified until a login or the log stream proves it);
 *  - a passwordless code makes at most a passwordless link, for a passwordless user;
 *  - a phone-as-identifier or unclassified code makes no link: it is no MFA phone, and what else it is
 *    cannot be told;
 *  - an account notice (blocked_account, change_password, password_breach) went to the user's profile phone.
 */

/** The flow callerpop acts on: the Action's, or what the trigger implies for older scripts; MFA needs a user. */
export function deliveryFlow(event: PhoneDeliverEvent): DeliveryFlow {
  const flow = event.message.flow ?? (event.trigger === 'send-phone-message' ? 'mfa' : 'unclassified');
  return flow === 'mfa' && !event.user ? 'unclassified' : flow;
}

/** One-time codes, as opposed to account notices. */
export function isCode(purpose: DeliveryPurpose): boolean {
  return purpose === 'enrollment' || purpose === 'authentication';
}

/**
 * otp_deliveries.purpose. MFA codes keep `enrollment` / `authentication`: those, and only those, can prove an
 * MFA phone later (findLastSentOtp). Codes of other flows are recorded as `<flow>_code`; notices keep their type.
 */
export function recordedPurpose(flow: DeliveryFlow, purpose: DeliveryPurpose): string {
  if (!isCode(purpose) || flow === 'mfa') return purpose;
  return `${flow}_code`;
}

/** The index link a delivered message makes, or null when it proves nothing about who uses the number. */
export function deliveredLinkSource(
  flow: DeliveryFlow,
  purpose: DeliveryPurpose,
  channel: OtpChannel,
  user: EventUser | null | undefined,
): PhoneSource | null {
  if (!user) return null;
  if (!isCode(purpose)) return 'profile';
  if (flow === 'mfa') return channel === 'voice' ? 'mfa_voice' : 'mfa_sms';
  if (flow === 'passwordless' && isPasswordlessUser(user)) return 'passwordless';
  return null;
}
