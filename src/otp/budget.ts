import type { Config } from '../config.js';
import type { Db, Writer } from '../db/client.js';
import {
  countRecentDeliveries,
  countRecentRange,
  destinationRange,
  insertOtpDelivery,
  isProvenDestination,
  type OtpDeliveryRow,
} from './queries.js';
import type { OtpChannel } from './schema.js';

/**
 * The toll-fraud budget every code callerpop sends goes through: the OTP relay (callerpop as Auth0's phone
 * provider), the IVR's caller check and the /verify page. SMS pumping earns from sends to numbers the fraudster
 * controls (premium, satellite and shared ranges, or a walk through one operator's range), so:
 *  - the recipient must be a valid number with a country: numbers of international networks (+870, +881,
 *    +882, +883…) have none and are refused unless OTP_ALLOWED_COUNTRIES lists `001`;
 *  - its country must be in OTP_ALLOWED_COUNTRIES (when it names countries);
 *  - its type must be one a person answers: MOBILE, FIXED_LINE_OR_MOBILE or VOIP, plus FIXED_LINE for voice.
 *    PREMIUM_RATE, SHARED_COST, TOLL_FREE, PERSONAL_NUMBER, UAN, PAGER, VOICEMAIL and unknown types are refused;
 *  - per person: at most OTP_RATE_LIMIT_PER_HOUR to one number for one user and to one user in all (the relay
 *    trusts the user id of the signed event for this); for the IVR, where nobody is signed in, to one number.
 *    /verify counts its own per-person limits (VERIFY_*);
 *  - per destination: at most OTP_RANGE_HOURLY_LIMIT different numbers of one range (the E.164 number less its
 *    last 3 digits) in an hour, across users, so spreading sends over many accounts does not spread the limit.
 *    A number already proven (a verified link in the index: for this user, or for anyone in the IVR) is not
 *    held by it: a stranger walking a range cannot stop the codes of someone who proved their number there;
 *  - in all: at most OTP_COUNTRY_HOURLY_BUDGET to one country and OTP_HOURLY_BUDGET altogether per hour, the
 *    cost ceiling. Reaching it stops codes for everyone, which is its purpose: size it a few times your busiest
 *    hour (docs/security.md).
 * Counting and reserving (the row, as `pending`) happen in one write transaction, so concurrent requests cannot
 * overshoot. Sends that failed or were refused do not count. Codes are kept only as a keyed hash (hashOtpCode).
 */

const SMS_TYPES: ReadonlySet<string> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE', 'VOIP']);
const VOICE_TYPES: ReadonlySet<string> = new Set([...SMS_TYPES, 'FIXED_LINE']);
const HOUR_MS = 60 * 60 * 1000;
/** libphonenumber's region code for numbers of no country (its "non-geographic entities"). */
export const NON_GEOGRAPHIC = '001';

/** otp_deliveries.purpose of the IVR's caller-verification texts. */
export const CALLER_VERIFICATION_PURPOSE = 'caller_verification';
/** otp_deliveries.purpose of the /verify page's codes. */
export const PHONE_VERIFICATION_PURPOSE = 'phone_verification';
/** Purposes with per-person limits of their own; the relay's limits count every other purpose. */
const OWN_LIMITS = [CALLER_VERIFICATION_PURPOSE, PHONE_VERIFICATION_PURPOSE];

export type DestinationRefusal = 'no_country' | 'country_not_allowed' | 'number_type_not_allowed';
export type BudgetRefusal = 'rate_limited_range' | 'country_budget_spent' | 'hourly_budget_spent';
export type DeliveryRefusal =
  | DestinationRefusal
  | BudgetRefusal
  | 'rate_limited_number'
  | 'rate_limited_user';

type BudgetConfig = Pick<
  Config,
  | 'OTP_ALLOWED_COUNTRIES'
  | 'OTP_RATE_LIMIT_PER_HOUR'
  | 'OTP_RANGE_HOURLY_LIMIT'
  | 'OTP_COUNTRY_HOURLY_BUDGET'
  | 'OTP_HOURLY_BUDGET'
>;

/**
 * Country (OTP_ALLOWED_COUNTRIES, `001` for numbers of no country) and number-type checks: may this number be
 * sent a code on this channel?
 */
export function destinationRefusal(
  config: Pick<Config, 'OTP_ALLOWED_COUNTRIES'>,
  destination: { country: string | null; numberType: string | null },
  channel: OtpChannel,
): DestinationRefusal | null {
  const listed = config.OTP_ALLOWED_COUNTRIES;
  if (destination.country === null) {
    if (!listed.includes(NON_GEOGRAPHIC)) return 'no_country';
  } else {
    // `001` alone adds numbers of no country; it does not by itself restrict the countries.
    const countries = listed.filter((c) => c !== NON_GEOGRAPHIC);
    if (countries.length > 0 && !countries.includes(destination.country)) return 'country_not_allowed';
  }
  const allowedTypes = channel === 'voice' ? VOICE_TYPES : SMS_TYPES;
  if (!allowedTypes.has(destination.numberType ?? '')) return 'number_type_not_allowed';
  return null;
}

/**
 * The shared part, inside the caller's write transaction: the destination range, the per-country and the
 * total budget; reserves the send (the row, as `pending`) when all allow it. The caller has checked the
 * destination and its own per-person limits in the same transaction.
 */
export async function reserveBudget(
  tx: Writer,
  config: BudgetConfig,
  row: OtpDeliveryRow,
): Promise<BudgetRefusal | null> {
  const since = row.createdAt - HOUR_MS;
  const range = destinationRange(row.recipient);
  if (range !== null) {
    const seen = await countRecentRange(tx, { range, recipient: row.recipient }, since);
    if (
      !seen.recipientIncluded &&
      seen.numbers >= config.OTP_RANGE_HOURLY_LIMIT &&
      !(await isProvenDestination(tx, row.recipient, row.userId))
    )
      return 'rate_limited_range';
  }
  if ((await countRecentDeliveries(tx, { country: row.country }, since)) >= config.OTP_COUNTRY_HOURLY_BUDGET)
    return 'country_budget_spent';
  if ((await countRecentDeliveries(tx, {}, since)) >= config.OTP_HOURLY_BUDGET) return 'hourly_budget_spent';
  await insertOtpDelivery(tx, { ...row, status: 'pending' });
  return null;
}

/**
 * Every control before a code of the OTP relay or the IVR's caller check leaves: destination, the per-person
 * limits, then {@link reserveBudget}, in one write transaction. Returns the refusal, or null once reserved; a
 * refusal writes nothing (the caller records it).
 * Caller verification keeps its own per-number limit: a spoofed caller ID must not use up the MFA codes of
 * the number's owner, nor the other way round. The budgets are shared by every purpose.
 */
export async function reserveDelivery(
  deps: { db: Db; config: BudgetConfig },
  row: OtpDeliveryRow,
): Promise<DeliveryRefusal | null> {
  const refused = destinationRefusal(deps.config, row, row.channel);
  if (refused) return refused;
  const limit = deps.config.OTP_RATE_LIMIT_PER_HOUR;
  const purposes =
    row.purpose === CALLER_VERIFICATION_PURPOSE
      ? { only: CALLER_VERIFICATION_PURPOSE }
      : { except: OWN_LIMITS };
  const { userId, recipient } = row;
  return deps.db.transaction(async (tx) => {
    const since = row.createdAt - HOUR_MS;
    // Per (user, number) when the signed event names the user: another account's sends to this number
    // (a stranger typing it in) do not count against its owner.
    const toNumber = userId === null ? { recipient } : { recipient, userId };
    if ((await countRecentDeliveries(tx, toNumber, since, purposes)) >= limit) return 'rate_limited_number';
    if (userId !== null && (await countRecentDeliveries(tx, { userId }, since, purposes)) >= limit)
      return 'rate_limited_user';
    return reserveBudget(tx, deps.config, row);
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
