import { and, desc, eq, gte, inArray, lte, ne, sql } from 'drizzle-orm';
import type { Db, Writer } from '../db/client.js';
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

export async function insertOtpDelivery(w: Writer, row: OtpDeliveryRow) {
  await w.insert(otpDeliveries).values(row);
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

/** Deliveries that count against the rate limits since a time: sent, or on their way to Twilio. */
export async function countRecentDeliveries(
  w: Writer,
  by: { recipient: string } | { userId: string },
  since: number,
  /** Count only one purpose's deliveries, or all but one purpose's (budgets kept apart). */
  purposes?: { only: string } | { except: string },
): Promise<number> {
  const who =
    'recipient' in by ? eq(otpDeliveries.recipient, by.recipient) : eq(otpDeliveries.userId, by.userId);
  const purpose =
    purposes === undefined
      ? undefined
      : 'only' in purposes
        ? eq(otpDeliveries.purpose, purposes.only)
        : ne(otpDeliveries.purpose, purposes.except);
  const rows = await w
    .select({ n: sql<number>`count(*)` })
    .from(otpDeliveries)
    .where(
      and(
        who,
        gte(otpDeliveries.createdAt, since),
        inArray(otpDeliveries.status, ['pending', 'sent']),
        purpose,
      ),
    );
  return Number(rows[0]?.n ?? 0);
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
