import type { Writer } from '../db/client.js';
import type { PhoneSource } from '../db/schema.js';
import { findLastSentOtp } from '../otp/index.js';
import {
  type AccountInput,
  type LinkInput,
  removeLinks,
  upsertAccounts,
  upsertLinks,
} from '../phone-index/index.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import { linkedUserIds } from './enrollment-policy.js';
import type { EventUser, UserLoginEvent } from './events.js';
import { findLiveLinksOfUser } from './queries.js';

/**
 * Applies what Auth0 reports about a user to the index. Every write carries the event's own time, so the
 * index ends up the same whatever order Actions and Log Streams deliver in (see index-writes.ts).
 * Callers run these inside one transaction per event, with the event's idempotency claim.
 */

const MFA_SOURCES: readonly PhoneSource[] = ['mfa_sms', 'mfa_voice'];
const PHONE_FACTOR_TYPES: ReadonlySet<string> = new Set(['phone', 'sms', 'voice']);
/** Phone MFA proves the number that received the user's latest code within this window. */
const PROOF_WINDOW_MS = 15 * 60 * 1000;
/** Tolerated clock difference between Auth0's timestamps and callerpop's. */
const CLOCK_SKEW_MS = 60 * 1000;

export interface LifecycleContext {
  region: string;
}

function parseTime(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function toE164(raw: unknown, ctx: LifecycleContext): string | undefined {
  const n = normalizePhone(raw, { region: ctx.region });
  return n.ok ? n.e164 : undefined;
}

export function isPasswordlessUser(user: Pick<EventUser, 'user_id' | 'connection' | 'strategy'>): boolean {
  return user.strategy === 'sms' || user.connection === 'sms' || user.user_id.startsWith('sms|');
}

function accountFrom(user: EventUser, at: number, lastLoginAt?: number): AccountInput {
  return {
    userId: user.user_id,
    connection: user.connection,
    email: user.email,
    name: user.name,
    blocked: user.blocked,
    lastLoginAt: lastLoginAt ?? null,
    at,
  };
}

/** The account, the accounts linked into it, and its own phone number (passwordless identity or profile). */
async function applyUser(
  w: Writer,
  user: EventUser,
  at: number,
  ctx: LifecycleContext,
  lastLoginAt?: number,
) {
  const applied = ['account'];
  const linked = linkedUserIds(user.identities).filter((id) => id !== user.user_id);
  await upsertAccounts(w, [
    accountFrom(user, at, lastLoginAt),
    ...linked.map((userId) => ({ userId, primaryUserId: user.user_id, at })),
  ]);
  if (linked.length > 0) applied.push('linked_accounts');

  const e164 = toE164(user.phone_number, ctx);
  if (e164) {
    const passwordless = isPasswordlessUser(user);
    await upsertLinks(w, [
      {
        e164,
        userId: user.user_id,
        source: passwordless ? 'passwordless' : 'profile',
        // A passwordless user proved the number by signing in with it.
        verified: passwordless ? true : (user.phone_verified ?? undefined),
        at,
      },
    ]);
    applied.push(passwordless ? 'passwordless_phone' : 'profile_phone');
  }
  return applied;
}

export async function applyUserRegistered(w: Writer, user: EventUser, at: number, ctx: LifecycleContext) {
  return applyUser(w, user, at, ctx);
}

/** Phone numbers an enrolled factor reveals, when Auth0 includes them unmasked in its options. */
function factorNumbers(
  factors: NonNullable<UserLoginEvent['mfa']['enrolled_factors']>,
  ctx: LifecycleContext,
) {
  const out: string[] = [];
  for (const f of factors) {
    if (!PHONE_FACTOR_TYPES.has(f.type)) continue;
    const e164 = toE164(f.options?.phone_number ?? f.options?.phoneNumber, ctx);
    if (e164) out.push(e164);
  }
  return out;
}

/**
 * post-login: refresh the account, then reconcile phone MFA.
 *  - enrolledFactors without a phone factor (or `multifactor` empty): the user's MFA phone links go, as of
 *    the login. Links created by a later enrollment (same login, after this Action) are newer and stay.
 *  - a phone MFA in event.authentication.methods proves a number: the one named by the factor if Auth0 says,
 *    else the one callerpop delivered the user's latest code to, else the user's only MFA phone.
 */
export async function applyUserLogin(w: Writer, event: UserLoginEvent, at: number, ctx: LifecycleContext) {
  const { user, mfa } = event;
  const applied = await applyUser(w, user, at, ctx, parseTime(user.last_login) ?? at);
  const userId = user.user_id;

  const phoneEnrolled = mfa.enrolled_factors
    ? mfa.enrolled_factors.some((f) => PHONE_FACTOR_TYPES.has(f.type))
    : mfa.multifactor && mfa.multifactor.length === 0
      ? false
      : undefined;
  const named = mfa.enrolled_factors ? factorNumbers(mfa.enrolled_factors, ctx) : [];

  if (phoneEnrolled === false) {
    let removed = 0;
    for (const source of MFA_SOURCES) removed += await removeLinks(w, { userId, source, at });
    if (removed > 0) applied.push('mfa_removed');
  } else if (named.length > 0) {
    // Auth0 named the enrolled numbers: any other MFA number of the user is gone.
    const live = await findLiveLinksOfUser(w, userId, MFA_SOURCES);
    for (const link of live) {
      if (!named.includes(link.e164))
        await removeLinks(w, { userId, e164: link.e164, source: link.source, at });
    }
  }

  const phoneMfa = (mfa.methods ?? []).find(
    (m) => m.name === 'mfa' && m.type && PHONE_FACTOR_TYPES.has(m.type),
  );
  if (phoneMfa && phoneEnrolled !== false) {
    // Ordered by when the MFA happened: an unenrollment or re-enrollment after it wins.
    const when = parseTime(phoneMfa.timestamp) ?? at;
    const proven = await provenNumbers(w, userId, named, when);
    if (proven.length > 0) {
      await upsertLinks(
        w,
        proven.map((p): LinkInput => ({ e164: p.e164, userId, source: p.source, verified: true, at: when })),
      );
      applied.push('mfa_verified');
    }
  }
  return applied;
}

/**
 * The numbers a phone MFA at `when` proves: those Auth0 named, else the one callerpop delivered the user's latest
 * code to, else the user's only MFA phone. Shared with the log events (gd_enrollment_complete without a number).
 */
export async function provenNumbers(
  w: Writer,
  userId: string,
  named: readonly string[],
  when: number,
): Promise<{ e164: string; source: PhoneSource }[]> {
  const live = await findLiveLinksOfUser(w, userId, MFA_SOURCES);
  const sourceOf = (e164: string, fallback: PhoneSource = 'mfa_sms') =>
    live.find((l) => l.e164 === e164)?.source ?? fallback;
  if (named.length > 0) return named.map((e164) => ({ e164, source: sourceOf(e164) }));
  const last = await findLastSentOtp(w, userId, when + CLOCK_SKEW_MS, when - PROOF_WINDOW_MS);
  if (last)
    return [
      {
        e164: last.recipient,
        source: sourceOf(last.recipient, last.channel === 'voice' ? 'mfa_voice' : 'mfa_sms'),
      },
    ];
  const numbers = new Set(live.map((l) => l.e164));
  if (numbers.size === 1) return live.map((l) => ({ e164: l.e164, source: l.source }));
  return [];
}
