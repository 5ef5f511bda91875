import { and, desc, eq, gte, inArray, isNull, lte, ne, sql } from 'drizzle-orm';
import type { Db, Writer } from './client.js';
import {
  accounts,
  type EnrollmentDecisionKind,
  enrollmentDecisions,
  type OtpChannel,
  type OtpStatus,
  otpDeliveries,
  type PhoneSource,
  phoneLinks,
} from './schema.js';

/**
 * Queries of the Auth0 feed: event idempotency inside transactions, enrollment decisions, OTP deliveries
 * and the rate-limit counts over them. Readers for other surfaces (the agent console) are at the bottom.
 */

// --- accounts and links ---

export async function findAccount(w: Writer, userId: string) {
  const rows = await w.select().from(accounts).where(eq(accounts.userId, userId)).limit(1);
  return rows[0];
}

/** A deletion is final: later (or redelivered older) events may refresh fields but never undelete. */
export async function markAccountDeleted(w: Writer, userId: string, at: number) {
  await w
    .insert(accounts)
    .values({ userId, createdAt: at, updatedAt: at, deletedAt: at })
    .onConflictDoUpdate({
      target: accounts.userId,
      set: { deletedAt: sql`min(coalesce(accounts.deleted_at, excluded.deleted_at), excluded.deleted_at)` },
    });
}

export interface UserLink {
  e164: string;
  source: PhoneSource;
  verified: boolean;
  eventAt: number;
}

/** The user's links that are not removed, optionally of some sources only. */
export async function findLiveLinksOfUser(
  w: Writer,
  userId: string,
  sources?: readonly PhoneSource[],
): Promise<UserLink[]> {
  const where = [eq(phoneLinks.userId, userId), isNull(phoneLinks.removedAt)];
  if (sources) where.push(inArray(phoneLinks.source, [...sources]));
  return w
    .select({
      e164: phoneLinks.e164,
      source: phoneLinks.source,
      verified: phoneLinks.verified,
      eventAt: phoneLinks.eventAt,
    })
    .from(phoneLinks)
    .where(and(...where));
}

// --- enrollment decisions ---

export interface ConflictingAccount {
  userId: string;
  sources: PhoneSource[];
}

export interface EnrollmentDecisionRow {
  e164: string;
  userId: string;
  policy: EnrollmentDecisionKind;
  decision: EnrollmentDecisionKind;
  reason: string;
  conflicting: ConflictingAccount[];
  channel: OtpChannel | null;
  trigger: string;
  createdAt: number;
}

export async function recordEnrollmentDecision(w: Writer, row: EnrollmentDecisionRow) {
  await w.insert(enrollmentDecisions).values(row);
}

/** Newest first: the policy's history for one number. */
export async function listEnrollmentDecisions(
  db: Db,
  e164: string,
  limit = 20,
): Promise<EnrollmentDecisionRow[]> {
  const rows = await db
    .select()
    .from(enrollmentDecisions)
    .where(eq(enrollmentDecisions.e164, e164))
    .orderBy(desc(enrollmentDecisions.createdAt), desc(enrollmentDecisions.id))
    .limit(limit);
  return rows.map(({ id: _id, ...row }) => ({
    ...row,
    channel: (row.channel as OtpChannel | null) ?? null,
    conflicting: Array.isArray(row.conflicting) ? (row.conflicting as ConflictingAccount[]) : [],
  }));
}

export interface PolicyWarning {
  /** The account that enrolled the number although others already used it. */
  userId: string;
  conflicting: ConflictingAccount[];
  at: number;
}

/**
 * The `warn` decisions behind this number's live MFA links: an agent seeing a call from the number should
 * know that it was enrolled by one account while others already held it. Empty when none is live any more.
 * For the console and lookups: set `flags.policyWarning` when this is non-empty.
 */
export async function findPolicyWarnings(db: Db, e164: string): Promise<PolicyWarning[]> {
  const rows = await db
    .select({
      userId: enrollmentDecisions.userId,
      conflicting: enrollmentDecisions.conflicting,
      at: enrollmentDecisions.createdAt,
    })
    .from(enrollmentDecisions)
    .innerJoin(
      phoneLinks,
      and(
        eq(phoneLinks.e164, enrollmentDecisions.e164),
        eq(phoneLinks.userId, enrollmentDecisions.userId),
        inArray(phoneLinks.source, ['mfa_sms', 'mfa_voice']),
        isNull(phoneLinks.removedAt),
      ),
    )
    .where(and(eq(enrollmentDecisions.e164, e164), eq(enrollmentDecisions.decision, 'warn')))
    .orderBy(desc(enrollmentDecisions.createdAt));
  const seen = new Set<string>();
  const out: PolicyWarning[] = [];
  for (const row of rows) {
    if (seen.has(row.userId)) continue;
    seen.add(row.userId);
    out.push({
      userId: row.userId,
      at: row.at,
      conflicting: Array.isArray(row.conflicting) ? (row.conflicting as ConflictingAccount[]) : [],
    });
  }
  return out;
}

// --- OTP deliveries ---

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
