import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { OtpChannel, PhoneSource } from '../db/schema.js';
import { findLinksByE164, type LinkRow } from '../phone-index/index.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import type { DeliveryFlow, DeliveryPurpose, EnrollmentAnswer } from './events.js';
import { type ConflictingAccount, findAccount, recordEnrollmentDecision } from './queries.js';

/**
 * One number per user. When an account enrolls a phone for MFA, every other *person* already using that
 * number to sign in (a verified MFA phone or a passwordless SMS login) is a conflict. Not conflicts: the
 * same user re-enrolling, accounts linked to the same person (Auth0 account linking), a configured shared
 * number, profile phone numbers (unverified data, not a way in), and MFA phones not yet verified: anyone
 * can start an enrollment with any number, so an enrollment nobody completed proves nothing and must not
 * lock the number's owner out.
 *
 * ENROLLMENT_POLICY decides what a conflict does: `allow` (record only), `warn` (let it through, flag it for
 * agents) or `block` (refuse with ENROLLMENT_BLOCK_MESSAGE, which names no one). Every decision is recorded.
 *
 * Only MFA enrollment is decided (policyApplies): under the Unified Phone Experience the same provider also
 * sends passwordless login codes and sign-up phone checks, where the number is the user's own identifier,
 * and a code whose flow the Action could not tell is never taken for an MFA enrollment.
 */

/** Whether a phone message is an MFA enrollment, the one thing ENROLLMENT_POLICY decides. */
export function policyApplies(flow: DeliveryFlow, purpose: DeliveryPurpose): boolean {
  return flow === 'mfa' && purpose === 'enrollment';
}

/** Links that prove someone signs in with the number (MFA ones only once verified, see isSignIn). */
const SIGN_IN_SOURCES: ReadonlySet<PhoneSource> = new Set(['mfa_sms', 'mfa_voice', 'passwordless']);

/** A passwordless identity is its number; an MFA phone counts once a login or the log stream proved it. */
function isSignIn(row: LinkRow): boolean {
  if (!SIGN_IN_SOURCES.has(row.source)) return false;
  return row.source === 'passwordless' || row.verified;
}

export type PolicyReason = 'no_conflict' | 'same_person' | 'shared_number' | 'conflict';

export interface EnrollmentRequest {
  e164: string;
  userId: string;
  /** Full user ids of identities linked into this user (from event.user.identities). */
  linkedUserIds: readonly string[];
  channel: OtpChannel | null;
  trigger: string;
  at: number;
}

export interface EnrollmentOutcome extends EnrollmentAnswer {
  reason: PolicyReason;
  conflicting: ConflictingAccount[];
}

type PolicyConfig = Pick<
  Config,
  'ENROLLMENT_POLICY' | 'SHARED_NUMBERS' | 'DEFAULT_REGION' | 'ENROLLMENT_BLOCK_MESSAGE'
>;

/** SHARED_NUMBERS normalized (they may be written in national format); a few numbers, on enrollments only. */
export function sharedNumbers(config: PolicyConfig): ReadonlySet<string> {
  const out = new Set<string>();
  for (const raw of config.SHARED_NUMBERS) {
    const n = normalizePhone(raw, { region: config.DEFAULT_REGION });
    if (n.ok) out.add(n.e164);
  }
  return out;
}

/** `identities` entries are `{ provider, user_id }`; the Auth0 user id is `provider|user_id`. */
export function linkedUserIds(
  identities: readonly { provider: string; user_id: string }[] | undefined,
): string[] {
  return (identities ?? []).map((i) => `${i.provider}|${i.user_id}`);
}

function groupOthers(
  rows: readonly LinkRow[],
  isSamePerson: (row: LinkRow) => boolean,
): { others: ConflictingAccount[]; samePerson: boolean } {
  const byUser = new Map<string, PhoneSource[]>();
  let samePerson = false;
  for (const row of rows) {
    if (!SIGN_IN_SOURCES.has(row.source)) continue;
    if (isSamePerson(row)) {
      samePerson = true;
      continue;
    }
    if (!isSignIn(row)) continue;
    const sources = byUser.get(row.userId) ?? [];
    sources.push(row.source);
    byUser.set(row.userId, sources);
  }
  return {
    others: [...byUser]
      .map(([userId, sources]) => ({ userId, sources }))
      .sort((a, b) => a.userId.localeCompare(b.userId)),
    samePerson,
  };
}

/** Decides, records and answers. Reads the index outside any transaction: a decision is advisory, not a lock. */
export async function decideEnrollment(
  deps: { db: Db; config: PolicyConfig },
  request: EnrollmentRequest,
): Promise<EnrollmentOutcome> {
  const { db, config } = deps;
  const [rows, self] = await Promise.all([
    findLinksByE164(db, request.e164),
    findAccount(db, request.userId),
  ]);
  const linked = new Set(request.linkedUserIds);
  const primary = self?.primaryUserId ?? null;
  const isSamePerson = (row: LinkRow) =>
    row.userId === request.userId ||
    linked.has(row.userId) ||
    row.primaryUserId === request.userId ||
    (primary !== null && (row.userId === primary || row.primaryUserId === primary));

  const { others, samePerson } = groupOthers(rows, isSamePerson);
  let outcome: EnrollmentOutcome;
  if (sharedNumbers(config).has(request.e164)) {
    outcome = { allowed: true, decision: 'allow', reason: 'shared_number', conflicting: others };
  } else if (others.length === 0) {
    outcome = {
      allowed: true,
      decision: 'allow',
      reason: samePerson ? 'same_person' : 'no_conflict',
      conflicting: [],
    };
  } else if (config.ENROLLMENT_POLICY === 'block') {
    outcome = {
      allowed: false,
      decision: 'block',
      reason: 'conflict',
      message: config.ENROLLMENT_BLOCK_MESSAGE,
      conflicting: others,
    };
  } else {
    outcome = { allowed: true, decision: config.ENROLLMENT_POLICY, reason: 'conflict', conflicting: others };
  }

  await recordEnrollmentDecision(db, {
    e164: request.e164,
    userId: request.userId,
    policy: config.ENROLLMENT_POLICY,
    decision: outcome.decision,
    reason: outcome.reason,
    conflicting: outcome.conflicting,
    channel: request.channel,
    trigger: request.trigger,
    createdAt: request.at,
  });
  return outcome;
}

/** What the Action sees: never the conflicting accounts (that would reveal who uses the number). */
export function toEnrollmentAnswer(outcome: EnrollmentOutcome): EnrollmentAnswer {
  return outcome.message === undefined
    ? { allowed: outcome.allowed, decision: outcome.decision }
    : { allowed: outcome.allowed, decision: outcome.decision, message: outcome.message };
}
