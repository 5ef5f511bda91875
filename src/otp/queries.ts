import { and, desc, eq, gte, inArray, isNull, lte, notInArray, type SQL, sql } from 'drizzle-orm';
import type { Db, Writer } from '../db/client.js';
import { phoneLinks } from '../db/schema.js';
import { type OtpChannel, type OtpStatus, otpDeliveries } from './schema.js';

/** The record of every code callerpop was asked to send (otp_deliveries). */

export interface OtpDeliveryRow {
  id: string;
  recipient: string;
  userId: string | null;
  channel: OtpChannel;
  purpose: string;
  trigger: string;
  status: OtpStatus;
  reason: string | null;
  codeHash: string | null;
  twilioSid: string | null;
  country: string | null;
  numberType: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The destination range pumping walks: the E.164 number less its last 3 digits; null for anything else. */
export function destinationRange(recipient: string): string | null {
  return /^\+\d{7,15}$/.test(recipient) ? recipient.slice(0, -3) : null;
}

export async function insertOtpDelivery(w: Writer, row: OtpDeliveryRow) {
  await w.insert(otpDeliveries).values({ ...row, range: destinationRange(row.recipient) });
}

export async function updateOtpDelivery(
  w: Writer,
  id: string,
  patch: Partial<Pick<OtpDeliveryRow, 'status' | 'reason' | 'twilioSid'>>,
  at: number,
) {
  await w
    .update(otpDeliveries)
    .set({ ...patch, updatedAt: at })
    .where(eq(otpDeliveries.id, id));
}

/** Sends that count against the limits and budgets: sent, or on their way to Twilio. */
const COUNTED = inArray(otpDeliveries.status, ['pending', 'sent']);

/**
 * Deliveries that count since a time, to a recipient, a user, a country (null: numbers of no country), any
 * combination of them, or all of them (no filter: the total budget).
 */
export async function countRecentDeliveries(
  w: Writer,
  by: { recipient?: string; userId?: string; country?: string | null },
  since: number,
  /** Count only one purpose's deliveries, or all but some purposes' (limits kept apart). */
  purposes?: { only: string } | { except: string[] },
): Promise<number> {
  const where: (SQL | undefined)[] = [gte(otpDeliveries.createdAt, since), COUNTED];
  if (by.recipient !== undefined) where.push(eq(otpDeliveries.recipient, by.recipient));
  if (by.userId !== undefined) where.push(eq(otpDeliveries.userId, by.userId));
  if (by.country !== undefined)
    where.push(by.country === null ? isNull(otpDeliveries.country) : eq(otpDeliveries.country, by.country));
  if (purposes !== undefined)
    where.push(
      'only' in purposes
        ? eq(otpDeliveries.purpose, purposes.only)
        : notInArray(otpDeliveries.purpose, purposes.except),
    );
  const rows = await w
    .select({ n: sql<number>`count(*)` })
    .from(otpDeliveries)
    .where(and(...where));
  return Number(rows[0]?.n ?? 0);
}

/** How many different numbers of a range were sent codes since a time, and whether this one is among them. */
export async function countRecentRange(
  w: Writer,
  input: { range: string; recipient: string },
  since: number,
): Promise<{ numbers: number; recipientIncluded: boolean }> {
  const rows = await w
    .select({
      numbers: sql<number>`count(distinct ${otpDeliveries.recipient})`,
      included: sql<number>`count(case when ${otpDeliveries.recipient} = ${input.recipient} then 1 end)`,
    })
    .from(otpDeliveries)
    .where(and(eq(otpDeliveries.range, input.range), gte(otpDeliveries.createdAt, since), COUNTED));
  return { numbers: Number(rows[0]?.numbers ?? 0), recipientIncluded: Number(rows[0]?.included ?? 0) > 0 };
}

/**
 * Whether the index holds this number as verified (possession proven: a completed MFA enrollment or login,
 * a /verify): for this user, or for anyone when no user is known (the IVR).
 */
export async function isProvenDestination(w: Writer, e164: string, userId: string | null): Promise<boolean> {
  const where = [eq(phoneLinks.e164, e164), eq(phoneLinks.verified, true), isNull(phoneLinks.removedAt)];
  if (userId !== null) where.push(eq(phoneLinks.userId, userId));
  const rows = await w
    .select({ id: phoneLinks.id })
    .from(phoneLinks)
    .where(and(...where))
    .limit(1);
  return rows.length > 0;
}

/**
 * The number the user's most recent MFA code went to, at or before a time: which phone a successful MFA
 * proved. Only `enrollment` / `authentication` rows are MFA codes: codes of other flows (a passwordless login,
 * a sign-up phone check, a flow the Action could not tell) are recorded as `<flow>_code` and prove no MFA phone.
 */
export async function findLastSentOtp(w: Writer, userId: string, before: number, since: number) {
  const rows = await w
    .select({
      recipient: otpDeliveries.recipient,
      channel: otpDeliveries.channel,
      at: otpDeliveries.createdAt,
    })
    .from(otpDeliveries)
    .where(
      and(
        eq(otpDeliveries.userId, userId),
        eq(otpDeliveries.status, 'sent'),
        lte(otpDeliveries.createdAt, before),
        gte(otpDeliveries.createdAt, since),
        inArray(otpDeliveries.purpose, ['enrollment', 'authentication']),
      ),
    )
    .orderBy(desc(otpDeliveries.createdAt), desc(sql`rowid`))
    .limit(1);
  return rows[0];
}

/**
 * Newest first: every OTP callerpop was asked to send to this number, refused ones included (for the agent's
 * risk context: "a code was sent to this number 2 minutes ago", "12 refused attempts in the last hour").
 * The code hash is left out: nothing outside the relay needs it.
 */
export async function listOtpDeliveries(
  db: Db,
  recipient: string,
  options: { limit?: number; since?: number } = {},
) {
  const where = [eq(otpDeliveries.recipient, recipient)];
  if (options.since !== undefined) where.push(gte(otpDeliveries.createdAt, options.since));
  const rows = await db
    .select()
    .from(otpDeliveries)
    .where(and(...where))
    .orderBy(desc(otpDeliveries.createdAt), desc(sql`rowid`))
    .limit(options.limit ?? 20);
  return rows.map(({ codeHash: _hash, ...row }) => row);
}
