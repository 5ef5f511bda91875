import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { countRecentDeliveries, insertOtpDelivery, type OtpDeliveryRow } from './queries.js';
import type { OtpChannel } from './schema.js';

/**
 * The toll-fraud budget every code callerpop sends goes through: the OTP relay (callerpop as Auth0's phone
 * provider), the IVR's caller check and the /verify page.
 *  - the recipient must be a valid number (libphonenumber metadata);
 *  - its country must be in OTP_ALLOWED_COUNTRIES (when set);
 *  - its type must be one a person answers: MOBILE, FIXED_LINE_OR_MOBILE or VOIP, plus FIXED_LINE for voice.
 *    PREMIUM_RATE, SHARED_COST, TOLL_FREE, PERSONAL_NUMBER, UAN, PAGER, VOICEMAIL and unknown types are refused:
 *    they are how SMS pumping and call-back fraud turn OTPs into revenue;
 *  - at most OTP_RATE_LIMIT_PER_HOUR deliveries per number and per user in any 60 minutes (counted inside a
 *    write transaction with the pending row, so concurrent requests cannot overshoot).
 * Codes are kept only as a keyed hash (hashOtpCode).
 */

const SMS_TYPES: ReadonlySet<string> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'VOIP']);
const VOICE_TYPES: ReadonlySet<string> = new Set([...SMS_TYPES, 'FIXED_LINE']);
const HOUR_MS = 60 * 60 * 1000;

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
