import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Writer } from '../db/client.js';
import {
  accounts,
  type EnrollmentDecisionKind,
  enrollmentDecisions,
  type OtpChannel,
  type PhoneSource,
  phoneLinks,
} from '../db/schema.js';

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
