import type { Config } from '../config.js';
import {
  countRecentDeliveries,
  insertOtpDelivery,
  type OtpDeliveryRow,
  updateOtpDelivery,
} from '../db/auth0-feed.js';
import type { Db } from '../db/client.js';
import { upsertAccounts, upsertLinks } from '../db/index-writes.js';
import type { OtpChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { describeError } from '../logger.js';
import { maskPhone, normalizePhone } from '../phone/normalize.js';
import type { DeliveryAnswer, PhoneDeliverEvent } from './auth0-events.js';
import { deliveredLinkSource, deliveryFlow, recordedPurpose } from './delivery-flow.js';
import { decideEnrollment, linkedUserIds, policyApplies, toEnrollmentAnswer } from './enrollment-policy.js';
import { buildOtpVoiceTwiml } from './otp-voice.js';
import { TwilioRestError } from './twilio-rest.js';

/**
 * callerpop as Auth0's phone provider: the Action hands over the message, callerpop applies the enrollment
 * policy (on MFA enrollment only), the toll-fraud controls, sends through Twilio and indexes the number as
 * the message's flow allows (delivery-flow.ts: only MFA codes make MFA links).
 *
 * Toll-fraud controls, in order, each refusal recorded in otp_deliveries with its reason:
 *  - the recipient must be a valid number (libphonenumber metadata);
 *  - its country must be in OTP_ALLOWED_COUNTRIES (when set);
 *  - its type must be one a person answers: MOBILE, FIXED_LINE_OR_MOBILE or VOIP, plus FIXED_LINE for voice.
 *    PREMIUM_RATE, SHARED_COST, TOLL_FREE, PERSONAL_NUMBER, UAN, PAGER, VOICEMAIL and unknown types are refused:
 *    they are how SMS pumping and call-back fraud turn OTPs into revenue;
 *  - at most OTP_RATE_LIMIT_PER_HOUR deliveries per number and per user in any 60 minutes (counted inside a
 *    write transaction with the pending row, so concurrent requests cannot overshoot).
 * The code is hashed (HMAC-SHA256 keyed with SESSION_SECRET) before anything is written, and never logged.
 * The same controls (reserveDelivery, destinationRefusal) guard the IVR's caller-verification texts and the
 * /verify page's sends.
 */

const SMS_TYPES: ReadonlySet<string> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'VOIP']);
const VOICE_TYPES: ReadonlySet<string> = new Set([...SMS_TYPES, 'FIXED_LINE']);
const HOUR_MS = 60 * 60 * 1000;
const MAX_RECIPIENT_CHARS = 32;

/** otp_deliveries.purpose of the IVR's caller-verification texts. */
export const CALLER_VERIFICATION_PURPOSE = 'caller_verification';

export type DestinationRefusal = 'country_not_allowed' | 'number_type_not_allowed';
export type DeliveryRefusal = DestinationRefusal | 'rate_limited_number' | 'rate_limited_user';

/** Country (OTP_ALLOWED_COUNTRIES) and number-type checks: may this number be sent a code on this channel? */
export function destinationRefusal(
  config: Pick<Config, 'OTP_ALLOWED_COUNTRIES'>,
  destination: { country: string | null; numberType: string | null },
  channel: OtpChannel,
): DestinationRefusal | null {
  const allowedCountries = config.OTP_ALLOWED_COUNTRIES;
  if (allowedCountries.length > 0 && !allowedCountries.includes(destination.country ?? ''))
    return 'country_not_allowed';
  const allowedTypes = channel === 'voice' ? VOICE_TYPES : SMS_TYPES;
  if (!allowedTypes.has(destination.numberType ?? '')) return 'number_type_not_allowed';
  return null;
}

/**
 * The toll-fraud controls before a code leaves: destination, then at most OTP_RATE_LIMIT_PER_HOUR
 * deliveries per number and per user in any 60 minutes. Counting and reserving (the row, as `pending`)
 * happen in one write transaction: two concurrent requests cannot both take the last slot. Returns the
 * refusal, or null once reserved; a refusal writes nothing (the caller records it).
 * Caller verification keeps its own budget: a spoofed caller ID must not use up the MFA codes of the
 * number's owner, nor the other way round.
 */
export async function reserveDelivery(
  deps: { db: Db; config: Pick<Config, 'OTP_ALLOWED_COUNTRIES' | 'OTP_RATE_LIMIT_PER_HOUR'> },
  row: OtpDeliveryRow,
): Promise<DeliveryRefusal | null> {
  const refused = destinationRefusal(deps.config, row, row.channel);
  if (refused) return refused;
  const limit = deps.config.OTP_RATE_LIMIT_PER_HOUR;
  const purposes =
    row.purpose === CALLER_VERIFICATION_PURPOSE
      ? { only: CALLER_VERIFICATION_PURPOSE }
      : { except: CALLER_VERIFICATION_PURPOSE };
  const userId = row.userId;
  return deps.db.transaction(async (tx) => {
    const since = row.createdAt - HOUR_MS;
    if ((await countRecentDeliveries(tx, { recipient: row.recipient }, since, purposes)) >= limit)
      return 'rate_limited_number';
    if (userId !== null && (await countRecentDeliveries(tx, { userId }, since, purposes)) >= limit)
      return 'rate_limited_user';
    await insertOtpDelivery(tx, { ...row, status: 'pending' });
    return null;
  });
}

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** HMAC-SHA256(secret, "{recipient}:{code}") in hex: lets a later check compare a code without keeping it. */
export async function hashOtpCode(secret: string, recipient: string, code: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return toHex(await crypto.subtle.sign('HMAC', key, encoder.encode(`${recipient}:${code}`)));
}

function smsBody(message: PhoneDeliverEvent['message']): string {
  if (message.text) return message.text;
  return message.code ? `Your verification code is ${message.code}` : '';
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

  if (message.channel === 'sms' && !smsBody(message)) return refuse('empty_message', withEnrollment);
  if (message.channel === 'voice' && !message.code) return refuse('no_code_for_voice', withEnrollment);
  const refused = await reserveDelivery(deps, row);
  if (refused) return refuse(refused, withEnrollment);

  const { twilio } = deps;
  let sent: { sid: string };
  try {
    sent =
      message.channel === 'sms'
        ? await twilio.sendSms({ to: e164, body: smsBody(message) })
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
