import type { Db } from '../db/client.js';
import type { PhoneSource } from '../db/schema.js';
import { findLinksByE164, type LinkRow } from './lookup-queries.js';

/** One account that owns the number, with everything an agent needs to judge it. */
export interface Match {
  rank: number;
  userId: string;
  name: string | null;
  email: string | null;
  connection: string | null;
  /** Every way this account is linked to the number, strongest first. */
  sources: PhoneSource[];
  verified: boolean;
  blocked: boolean;
  lastLoginAt: number | null;
  /** Why it ranks where it does, in words for the agent. */
  evidence: string;
}

export interface MatchResult {
  e164: string;
  matches: Match[];
  /** More than one account: a family phone, a front desk, or one person with two accounts. */
  sharedLine: boolean;
  /**
   * ENROLLMENT_POLICY=warn let an account enroll this number for MFA although another person already
   * signed in with it, and that enrollment is still live: the agent should ask who is calling.
   */
  policyWarning: boolean;
}

/**
 * Strength of one link as evidence, lower is stronger (DESIGN: verified MFA phone, then passwordless SMS
 * identity, then verified profile phone, then anything unverified).
 */
export function linkTier(source: PhoneSource, verified: boolean): number {
  if ((source === 'mfa_sms' || source === 'mfa_voice') && verified) return 0;
  if (source === 'passwordless') return 1;
  if (source === 'profile' && verified) return 2;
  if (source === 'mfa_sms' || source === 'mfa_voice') return 3;
  return 4;
}

const EVIDENCE = [
  'verified MFA phone',
  'passwordless SMS login',
  'verified profile phone',
  'MFA phone, not yet verified',
  'unverified profile phone',
];

interface Group {
  best: number;
  rows: LinkRow[];
}

/** Groups links by account and orders accounts by their strongest link, then by most recent login. */
export function rankLinks(e164: string, rows: readonly LinkRow[]): MatchResult {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const tier = linkTier(row.source, row.verified);
    const group = groups.get(row.userId);
    if (group) {
      group.rows.push(row);
      group.best = Math.min(group.best, tier);
    } else {
      groups.set(row.userId, { best: tier, rows: [row] });
    }
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      a.best - b.best ||
      (b.rows[0]?.lastLoginAt ?? 0) - (a.rows[0]?.lastLoginAt ?? 0) ||
      (a.rows[0]?.userId ?? '').localeCompare(b.rows[0]?.userId ?? ''),
  );
  const matches = ordered.map((group, i): Match => {
    const sorted = [...group.rows].sort(
      (a, b) => linkTier(a.source, a.verified) - linkTier(b.source, b.verified),
    );
    const head = sorted[0] as LinkRow;
    return {
      rank: i + 1,
      userId: head.userId,
      name: head.name,
      email: head.email,
      connection: head.connection,
      sources: sorted.map((r) => r.source),
      verified: group.best === 0 || group.best === 2 || sorted.some((r) => r.verified),
      blocked: head.blocked === true,
      lastLoginAt: head.lastLoginAt,
      evidence: EVIDENCE[group.best] ?? 'linked',
    };
  });
  return { e164, matches, sharedLine: matches.length > 1, policyWarning: rows.some((r) => r.policyWarning) };
}

export async function matchNumber(db: Db, e164: string): Promise<MatchResult> {
  return rankLinks(e164, await findLinksByE164(db, e164));
}
