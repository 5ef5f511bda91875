import { findLastSentOtp, findLiveLinksOfUser, markAccountDeleted } from '../db/auth0-feed.js';
import type { Writer } from '../db/client.js';
import {
  type AccountInput,
  type LinkInput,
  removeLinks,
  replaceLinks,
  upsertAccounts,
  upsertLinks,
} from '../db/index-writes.js';
import type { PhoneSource } from '../db/schema.js';
import { normalizePhone } from '../phone/normalize.js';
import type { EventUser, UserLoginEvent } from './auth0-events.js';
import { linkedUserIds } from './enrollment-policy.js';

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

async function provenNumbers(
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

// --- Log Streams ---

export interface LogEvent {
  logId: string;
  type: string;
  /** data.date in ms: the event time. */
  at: number;
  userId: string | undefined;
  details: unknown;
  description: string | undefined;
}

export const HANDLED_LOG_TYPES: ReadonlySet<string> = new Set([
  'gd_enrollment_complete',
  'gd_unenroll',
  'sdu',
  'scpn',
]);

const PHONE_KEY = /phone|recipient/i;
const OLD_KEY = /old|previous|prior/i;
const MASKED = /[x*•]/i;

/** The first unmasked phone number under a phone-ish key in a log's details (depth-limited), skipping old values. */
export function phoneInDetails(details: unknown, ctx: LifecycleContext, depth = 0): string | undefined {
  if (!details || typeof details !== 'object' || depth > 4) return undefined;
  for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
    if (OLD_KEY.test(key)) continue;
    if (typeof value === 'string' && PHONE_KEY.test(key) && !MASKED.test(value)) {
      const e164 = toE164(value, ctx);
      if (e164) return e164;
    }
  }
  for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
    if (OLD_KEY.test(key) || typeof value !== 'object') continue;
    const found = phoneInDetails(value, ctx, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The enrolled authenticator's kind if the log says (sms, voice, phone, otp, push…). */
function authenticatorType(event: LogEvent): string | undefined {
  const d = event.details as Record<string, Record<string, unknown> | undefined> | undefined;
  const candidates = [d?.authenticator?.type, d?.enrollment?.type, d?.type, d?.authenticator_type];
  for (const c of candidates) if (typeof c === 'string') return c.toLowerCase();
  const match = /\((sms|voice|phone|otp|push|email|webauthn[^)]*|recovery[^)]*)\)/i.exec(
    event.description ?? '',
  );
  return match?.[1]?.toLowerCase();
}

function phoneSourceFor(type: string | undefined): PhoneSource | null | undefined {
  if (type === undefined) return undefined;
  if (type === 'sms' || type === 'phone') return 'mfa_sms';
  if (type === 'voice') return 'mfa_voice';
  return null; // another factor: not ours
}

/** Applies one Log Stream event; returns what changed ('ignored: …' when nothing applies). */
export async function applyLogEvent(w: Writer, event: LogEvent, ctx: LifecycleContext): Promise<string> {
  const userId = event.userId;
  if (!userId) return 'ignored: no user_id';
  const at = event.at;

  if (event.type === 'sdu') {
    await markAccountDeleted(w, userId, at);
    await removeLinks(w, { userId, at });
    return 'user_deleted';
  }

  if (event.type === 'scpn') {
    if (isPasswordlessUser({ user_id: userId, connection: null, strategy: null }))
      return 'ignored: passwordless';
    const e164 = phoneInDetails(event.details, ctx);
    // The profile phone is now this number (or none) as of `at`: an older scpn arriving late changes nothing.
    await replaceLinks(w, { userId, source: 'profile', ...(e164 ? { keep: e164 } : {}), at });
    return e164 ? 'profile_phone_changed' : 'profile_phone_removed';
  }

  const source = phoneSourceFor(authenticatorType(event));
  if (source === null) return 'ignored: not a phone factor';
  const e164 = phoneInDetails(event.details, ctx);

  if (event.type === 'gd_unenroll') {
    if (e164) {
      // With the number known, a tombstone is written even if the enrollment has not arrived yet.
      for (const s of source ? [source] : MFA_SOURCES) await removeLinks(w, { userId, e164, source: s, at });
    } else {
      for (const s of source ? [source] : MFA_SOURCES) await removeLinks(w, { userId, source: s, at });
    }
    return 'mfa_removed';
  }

  // gd_enrollment_complete: the user typed the code, so the number is verified.
  const proven = e164 ? [{ e164, source: source ?? 'mfa_sms' }] : await provenNumbers(w, userId, [], at);
  if (proven.length === 0) return 'ignored: number unknown';
  await upsertLinks(
    w,
    proven.map((p): LinkInput => ({ e164: p.e164, userId, source: p.source, verified: true, at })),
  );
  return 'mfa_enrolled';
}
