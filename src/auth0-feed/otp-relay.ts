import { SegmentedMessage } from 'sms-segments-calculator';
import type { AppDeps } from '../deps.js';
import {
  hashOtpCode,
  insertOtpDelivery,
  type OtpDeliveryRow,
  reserveDelivery,
  updateOtpDelivery,
} from '../otp/index.js';
import { upsertAccounts, upsertLinks } from '../phone-index/index.js';
import { describeError } from '../shared/logger.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import { TwilioRestError } from '../twilio/index.js';
import { deliveredLinkSource, deliveryFlow, recordedPurpose } from './delivery-flow.js';
import { decideEnrollment, linkedUserIds, policyApplies, toEnrollmentAnswer } from './enrollment-policy.js';
import type { DeliveryAnswer, PhoneDeliverEvent } from './events.js';
import { buildOtpVoiceTwiml } from './otp-voice.js';

/**
 * callerpop as Auth0's phone provider: the Action hands over the message, callerpop applies the enrollment
 * policy (on MFA enrollment only), the toll-fraud controls, sends through Twilio and indexes the number as
 * the message's flow allows (delivery-flow.ts: only MFA codes make MFA links).
 *
 * Each refusal of the toll-fraud budget (src/otp) is recorded in otp_deliveries with its reason. The code
 * is hashed (HMAC-SHA256 keyed with SESSION_SECRET) before anything is written, and never logged.
 */

const MAX_RECIPIENT_CHARS = 32;

/**
 * The text sent: Auth0's message, unless it runs over OTP_MAX_SEGMENTS SMS segments (counted as Twilio
 * counts them: GSM-7 or UCS-2, with the segment headers; Twilio's message-segment-calculator). Each segment is
 * billed, so a long template (or one padded to earn more per pumped send) is not sent as is: the code goes
 * alone, in one segment. Without a code, nothing is sent (`message_too_long`).
 */
function smsBody(
  message: PhoneDeliverEvent['message'],
  maxSegments: number,
): { body: string; capped: boolean } {
  const short = message.code ? `Your verification code is ${message.code}` : '';
  if (!message.text) return { body: short, capped: false };
  if (new SegmentedMessage(message.text).segmentsCount <= maxSegments)
    return { body: message.text, capped: false };
  return { body: short, capped: true };
}

type RelayDeps = Pick<AppDeps, 'db' | 'config' | 'logger' | 'now' | 'newId' | 'fetch' | 'twilio'>;

export async function deliverOtp(deps: RelayDeps, event: PhoneDeliverEvent): Promise<DeliveryAnswer> {
  const { db, config, logger } = deps;
  const { message } = event;
  const user = event.user ?? null;
  const flow = deliveryFlow(event);
  const at = deps.now();
  const normalized = normalizePhone(message.recipient, { region: config.DEFAULT_REGION });
  const row: OtpDeliveryRow = {
    id: deps.newId(),
    recipient: normalized.ok ? normalized.e164 : message.recipient.trim().slice(0, MAX_RECIPIENT_CHARS),
    userId: user?.user_id ?? null,
    channel: message.channel,
    purpose: recordedPurpose(flow, message.purpose),
    trigger: event.trigger,
    status: 'refused',
    reason: null,
    codeHash: null,
    twilioSid: null,
    country: normalized.ok ? (normalized.country ?? null) : null,
    numberType: normalized.ok ? (normalized.type ?? null) : null,
    createdAt: at,
    updatedAt: at,
  };
  if (message.code) row.codeHash = await hashOtpCode(config.SESSION_SECRET, row.recipient, message.code);
  const log = {
    user: row.userId,
    to: maskPhone(row.recipient),
    channel: message.channel,
    purpose: row.purpose,
  };

  const refuse = async (
    reason: string,
    extra: { enrollment?: DeliveryAnswer['enrollment']; message?: string } = {},
  ): Promise<DeliveryAnswer> => {
    await insertOtpDelivery(db, { ...row, status: 'refused', reason });
    logger.warn('otp refused', { ...log, reason });
    return { delivered: false, retryable: false, reason, ...extra };
  };

  if (!normalized.ok) return refuse('invalid_number');
  const e164 = normalized.e164;

  let enrollment: DeliveryAnswer['enrollment'];
  if (user && policyApplies(flow, message.purpose)) {
    const outcome = await decideEnrollment(deps, {
      e164,
      userId: user.user_id,
      linkedUserIds: linkedUserIds(user.identities),
      channel: message.channel,
      trigger: event.trigger,
      at,
    });
    enrollment = toEnrollmentAnswer(outcome);
    if (!outcome.allowed) return refuse('enrollment_refused', { enrollment, message: outcome.message });
  }
  const withEnrollment = enrollment ? { enrollment } : {};

  const sms = smsBody(message, config.OTP_MAX_SEGMENTS);
  if (message.channel === 'sms' && !sms.body)
    return refuse(sms.capped ? 'message_too_long' : 'empty_message', withEnrollment);
  if (message.channel === 'sms' && sms.capped)
    logger.warn('otp text over OTP_MAX_SEGMENTS: the code is sent alone', {
      ...log,
      max: config.OTP_MAX_SEGMENTS,
    });
  if (message.channel === 'voice' && !message.code) return refuse('no_code_for_voice', withEnrollment);
  const refused = await reserveDelivery(deps, row);
  if (refused) return refuse(refused, withEnrollment);

  const { twilio } = deps;
  let sent: { sid: string };
  try {
    sent =
      message.channel === 'sms'
        ? await twilio.sendSms({ to: e164, body: sms.body })
        : await twilio.startCall({
            to: e164,
            twiml: buildOtpVoiceTwiml({
              code: message.code ?? '',
              locale: message.locale,
              fallbackText: message.voice_text ?? message.text,
            }),
          });
  } catch (err) {
    const failure =
      err instanceof TwilioRestError
        ? err
        : new TwilioRestError(err instanceof Error ? err.message : 'send failed', {
            transient: true,
            status: null,
          });
    await updateOtpDelivery(db, row.id, { status: 'failed', reason: failure.reason }, deps.now());
    logger.warn('otp delivery failed', { ...log, reason: failure.reason, transient: failure.transient });
    return { delivered: false, retryable: failure.transient, reason: failure.reason, ...withEnrollment };
  }

  // The code is on its way: from here on, a database failure must not make the Action send it again.
  const source = deliveredLinkSource(flow, message.purpose, message.channel, user);
  try {
    await db.transaction(async (tx) => {
      await updateOtpDelivery(tx, row.id, { status: 'sent', twilioSid: sent.sid }, deps.now());
      if (!user) return;
      await upsertAccounts(tx, [
        { userId: user.user_id, email: user.email, name: user.name, connection: user.connection, at },
      ]);
      if (source) await upsertLinks(tx, [{ e164, userId: user.user_id, source, at }]);
    });
  } catch (err) {
    logger.error('otp sent but not recorded', { ...log, sid: sent.sid, error: describeError(err) });
  }
  logger.info('otp sent', { ...log, sid: sent.sid });
  return { delivered: true, sid: sent.sid, ...withEnrollment };
}
