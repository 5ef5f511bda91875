import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { accounts, type PhoneSource, phoneLinks } from '../db/schema.js';

export interface LinkRow {
  userId: string;
  source: PhoneSource;
  verified: boolean;
  lastSeenAt: number;
  connection: string | null;
  email: string | null;
  name: string | null;
  blocked: boolean | null;
  lastLoginAt: number | null;
  primaryUserId: string | null;
  /**
   * This link is an MFA enrollment that ENROLLMENT_POLICY=warn let through although another person already
   * signed in with the number (a `warn` decision for this number and user, and the link is still live).
   */
  policyWarning: boolean;
}

/**
 * SQL for LinkRow.policyWarning over the phone_links row named `links` (a table name or alias): one
 * point query on the enrollment_decisions (e164, created_at) index, and only for MFA links. The same rule
 * as findPolicyWarnings in auth0-feed.ts; the webhook's plain-SQL lookup uses it too, keep them in step.
 */
export function policyWarningSql(links: string): string {
  return `case when ${links}.source in ('mfa_sms', 'mfa_voice') then exists (select 1 from enrollment_decisions ed
    where ed.e164 = ${links}.e164 and ed.user_id = ${links}.user_id and ed.decision = 'warn') else 0 end`;
}

const POLICY_WARNING = sql.raw(policyWarningSql('"phone_links"'));

/**
 * Every live link for one E.164 number with its account (if the account is known yet).
 * Served by the unique (e164, user_id, source) index: one index range scan, whatever the index size.
 */
export async function findLinksByE164(db: Db, e164: string): Promise<LinkRow[]> {
  return db
    .select({
      userId: phoneLinks.userId,
      source: phoneLinks.source,
      verified: phoneLinks.verified,
      lastSeenAt: phoneLinks.lastSeenAt,
      connection: accounts.connection,
      email: accounts.email,
      name: accounts.name,
      blocked: accounts.blocked,
      lastLoginAt: accounts.lastLoginAt,
      primaryUserId: accounts.primaryUserId,
      policyWarning: sql<boolean>`${POLICY_WARNING}`.mapWith(Boolean),
    })
    .from(phoneLinks)
    .leftJoin(accounts, eq(accounts.userId, phoneLinks.userId))
    .where(and(eq(phoneLinks.e164, e164), isNull(phoneLinks.removedAt), isNull(accounts.deletedAt)));
}
