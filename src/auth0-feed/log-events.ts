import type { Writer } from '../db/client.js';
import type { PhoneSource } from '../db/schema.js';
import { type LinkInput, removeLinks, replaceLinks, upsertLinks } from '../phone-index/index.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import { isPasswordlessUser, type LifecycleContext, provenNumbers } from './lifecycle.js';
import { findLiveLinksOfUser, markAccountDeleted } from './queries.js';

/**
 * What each Auth0 tenant log type says about phone numbers, and how it changes the index. Every type that
 * carries a phone number in Auth0's log schema is listed here with what callerpop does with it. The schema is
 * auth0/docs-v2 `main/docs/oas/tenant-logs/logs-schema.json` (the same as auth0/auth0-log-schemas); the
 * descriptions quoted are its `description`s, also in `main/docs/deploy-monitor/logs/log-event-type-codes.mdx`.
 *
 * Field paths follow the schema: for the `gd_*` types the number is `details.authenticator.phone_number` or
 * `details.enrollment.phone_number` (both optional, `string|null`); for `scpn` it is
 * `details.body.new_phone_number` / `old_phone_number`; for `cs` and `ss`, `details.body.phone_number`.
 * `date` and `user_id` are not `required` for any of them.
 */

const MFA_SOURCES: readonly PhoneSource[] = ['mfa_sms', 'mfa_voice'];

/** One log event, whatever shape it arrived in (log-stream.ts reads both). */
export interface LogEvent {
  logId: string;
  type: string;
  /** `date` in ms: the event time every write is ordered by. */
  at: number;
  userId: string | undefined;
  details: unknown;
  description: string | undefined;
  /** `strategy` / `connection`, where the type carries them (scpn, cs, ss). */
  strategy: string | undefined;
  connection: string | undefined;
}

/** How callerpop treats each phone-carrying type; `applied` types change the index. */
export const LOG_TYPES = {
  // "A first time MFA user has successfully enrolled using one of the factors": the code was typed.
  gd_enrollment_complete: 'applied',
  // "Device used for second factor authentication has been unenrolled".
  gd_unenroll: 'applied',
  // "Device used for second factor authentication has been updated.": the number may have changed.
  gd_update_device_account: 'applied',
  // "Multi-factor authentication success.": the user proved the factor (the number, for a phone).
  gd_auth_succeed: 'applied',
  // "SMS for MFA successfully sent." / "Voice call for MFA succeeded": an MFA number of this user.
  gd_send_sms: 'applied',
  gd_send_voice: 'applied',
  // "Successful Change Phone Number": the profile (or, for a passwordless user, the login) number moves.
  scpn: 'applied',
  // "Passwordless Login Code Sent": the login number of a passwordless SMS user.
  cs: 'applied',
  // "Successful Signup": the number given at sign-up, if any.
  ss: 'applied',
  // "Successful User Deletion": no number in it; every number of the user goes.
  sdu: 'applied',
  // "Successful API Operation …": a user deleted, or its phone_number PATCHed, through the Management API.
  sapi: 'applied',
  // Read, deliberately not applied: an enrollment that has only started proves nothing about the number
  // ("Multi-factor authentication enroll has started."), and failures change nothing.
  gd_start_enroll: 'not applied: the number is not confirmed yet',
  gd_start_enroll_failed: 'not applied: a failure changes nothing',
  gd_send_sms_failure: 'not applied: a failure changes nothing',
  gd_send_voice_failure: 'not applied: a failure changes nothing',
  gd_auth_failed: 'not applied: a failure changes nothing',
  fcpn: 'not applied: a failure changes nothing',
  fs: 'not applied: a failure changes nothing',
} as const satisfies Record<string, string>;

export const HANDLED_LOG_TYPES: ReadonlySet<string> = new Set(
  Object.entries(LOG_TYPES)
    .filter(([, treatment]) => treatment === 'applied')
    .map(([type]) => type),
);

type Record_ = Record<string, unknown>;
const isRecord = (v: unknown): v is Record_ => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (v: unknown, key: string): Record_ | undefined => {
  const c = isRecord(v) ? v[key] : undefined;
  return isRecord(c) ? c : undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * A number from a log field. Auth0 writes E.164 (the schema's `user_name` example is "+14155554321"); a
 * stream configured to obfuscate PII sends asterisks or an xxHash instead (main/docs/customize/log-streams.mdx,
 * "PII obfuscation"), and a hash of digits could parse as a number, so only a value that starts with `+` and
 * is a valid number counts.
 */
function logNumber(value: unknown, ctx: LifecycleContext): string | undefined {
  const text = str(value)?.trim();
  if (!text?.startsWith('+')) return undefined;
  const n = normalizePhone(text, { region: ctx.region });
  return n.ok ? n.e164 : undefined;
}

/** `details.authenticator.phone_number`, else `details.enrollment.phone_number` (gd_* types). */
function gdNumber(details: unknown, ctx: LifecycleContext): string | undefined {
  return (
    logNumber(child(details, 'authenticator')?.phone_number, ctx) ??
    logNumber(child(details, 'enrollment')?.phone_number, ctx)
  );
}

/**
 * Which MFA source a gd_* event is about: `sms`, `voice` or `phone` factors, or undefined when the log does not
 * say. `details.authenticator.type` has no enum in the schema (the one documented value is `totp`, in
 * adaptive-mfa-log-events.mdx), so the authenticator id's prefix (`sms|dev_…`, `phone|dev_…`) and the
 * description's "(sms)" are read too. null: another factor, not a phone.
 */
export function phoneFactorOf(event: LogEvent): PhoneSource | null | undefined {
  const authenticator = child(event.details, 'authenticator');
  const candidates = [
    str(authenticator?.type),
    str(authenticator?.id)?.match(/^([a-z-]+)\|/i)?.[1],
    /\(([a-z-]+)\)\s*$/i.exec(event.description ?? '')?.[1],
  ];
  for (const candidate of candidates) {
    const kind = candidate?.toLowerCase();
    if (kind === undefined) continue;
    if (kind === 'sms' || kind === 'phone' || kind === 'mfa-sms') return 'mfa_sms';
    if (kind === 'voice' || kind === 'mfa-voice') return 'mfa_voice';
    return null;
  }
  return undefined;
}

/** The user the event is about: top-level `user_id` (not `required`), else where the type's details name it. */
export function logUserId(userId: unknown, details: unknown): string | undefined {
  return (
    str(userId) ??
    str(child(details, 'enrollment')?.user_id) ??
    str(child(details, 'body')?.user_id) ??
    undefined
  );
}

function passwordless(event: LogEvent, userId: string): boolean {
  return isPasswordlessUser({
    user_id: userId,
    connection: event.connection ?? str(child(event.details, 'body')?.connection) ?? null,
    strategy: event.strategy ?? null,
  });
}

/** Applies one log event; returns what changed (`ignored: …` when nothing applies). */
export async function applyLogEvent(w: Writer, event: LogEvent, ctx: LifecycleContext): Promise<string> {
  // A sapi event's user_id is whoever called the API; the user written is in the request's path.
  if (event.type === 'sapi') return applyManagementApiWrite(w, event, ctx);
  const userId = event.userId;
  if (!userId) return 'ignored: no user_id';
  const at = event.at;
  const body = child(event.details, 'body');

  switch (event.type) {
    case 'sdu':
      return deleteUser(w, userId, at);
    case 'scpn': {
      // details.body.new_phone_number; details.body.phone_verified is a boolean in the scpn schema.
      const e164 = logNumber(body?.new_phone_number, ctx);
      const isPasswordless = passwordless(event, userId);
      const source: PhoneSource = isPasswordless ? 'passwordless' : 'profile';
      // The number is now this one (or none) as of `at`: an older scpn arriving late changes nothing.
      await replaceLinks(w, { userId, source, ...(e164 ? { keep: e164 } : {}), at });
      if (e164 && typeof body?.phone_verified === 'boolean')
        await upsertLinks(w, [{ e164, userId, source, verified: body.phone_verified, at }]);
      if (!e164) return `${source}_phone_removed`;
      return isPasswordless ? 'passwordless_phone_changed' : 'profile_phone_changed';
    }
    case 'cs': {
      // A passwordless login code went to details.body.phone_number: the user's login number (not yet
      // proven by this event; a login proves it).
      const e164 = logNumber(body?.phone_number, ctx);
      if (!e164 || !passwordless(event, userId)) return 'ignored: not a passwordless SMS code';
      await upsertLinks(w, [{ e164, userId, source: 'passwordless', at }]);
      return 'passwordless_phone';
    }
    case 'ss': {
      const e164 = logNumber(body?.phone_number, ctx);
      if (!e164) return 'ignored: no phone number';
      const isPasswordless = passwordless(event, userId);
      const verified = typeof body?.phone_verified === 'boolean' ? body.phone_verified : undefined;
      await upsertLinks(w, [
        { e164, userId, source: isPasswordless ? 'passwordless' : 'profile', verified, at },
      ]);
      return isPasswordless ? 'passwordless_phone' : 'profile_phone';
    }
    default:
      return applyGuardianEvent(w, event, userId, ctx);
  }
}

async function deleteUser(w: Writer, userId: string, at: number): Promise<string> {
  await markAccountDeleted(w, userId, at);
  await removeLinks(w, { userId, at });
  return 'user_deleted';
}

/** The gd_* types: MFA enrollments, their updates and removals, codes sent and factors proven. */
async function applyGuardianEvent(
  w: Writer,
  event: LogEvent,
  userId: string,
  ctx: LifecycleContext,
): Promise<string> {
  const source = phoneFactorOf(event);
  if (source === null) return 'ignored: not a phone factor';
  const e164 = gdNumber(event.details, ctx);
  const at = event.at;
  const sources = source ? [source] : MFA_SOURCES;

  switch (event.type) {
    case 'gd_unenroll':
      // With the number known a tombstone is written even if the enrollment has not arrived yet; without it,
      // every MFA phone of the user (of that kind) goes.
      for (const s of sources) await removeLinks(w, { userId, ...(e164 ? { e164 } : {}), source: s, at });
      return 'mfa_removed';
    case 'gd_update_device_account': {
      if (!e164 || !source) return 'ignored: number unknown';
      // The device now has this number. The old one is known only when the user had one phone of that kind.
      const live = (await findLiveLinksOfUser(w, userId, [source])).filter((l) => l.e164 !== e164);
      if (live.length === 1 && live[0]) await removeLinks(w, { userId, e164: live[0].e164, source, at });
      await upsertLinks(w, [{ e164, userId, source, at }]);
      return 'mfa_updated';
    }
    case 'gd_send_sms':
    case 'gd_send_voice': {
      if (!e164) return 'ignored: number unknown';
      const kind: PhoneSource = event.type === 'gd_send_voice' ? 'mfa_voice' : (source ?? 'mfa_sms');
      // A code went there: an MFA number of this user, not yet proven by this event.
      await upsertLinks(w, [{ e164, userId, source: kind, at }]);
      return 'mfa_code_sent';
    }
    default: {
      // gd_enrollment_complete and gd_auth_succeed: the user typed the code, so the number is verified.
      if (!source && !e164) return 'ignored: not a phone factor';
      const proven = e164 ? [{ e164, source: source ?? 'mfa_sms' }] : await provenNumbers(w, userId, [], at);
      if (proven.length === 0) return 'ignored: number unknown';
      await upsertLinks(
        w,
        proven.map((p): LinkInput => ({ e164: p.e164, userId, source: p.source, verified: true, at })),
      );
      return event.type === 'gd_auth_succeed' ? 'mfa_verified' : 'mfa_enrolled';
    }
  }
}

/**
 * `sapi`: the schema leaves `details.request` untyped. Two writes are read from it, with the path with or
 * without `/api/v2`: `DELETE /users/{id}` (the user is gone) and `PATCH /users/{id}` with a `phone_number` in
 * the body (the profile number moves). Authentication-method changes name no number; the user's next login
 * reconciles those (post-login's enrolledFactors).
 */
async function applyManagementApiWrite(w: Writer, event: LogEvent, ctx: LifecycleContext): Promise<string> {
  const request = child(event.details, 'request');
  const method = str(request?.method)?.toUpperCase();
  const path = str(request?.path);
  const match = path ? /^(?:\/api\/v2)?\/users\/([^/?]+)\/?(?:\?.*)?$/.exec(path) : null;
  if (!method || !match?.[1]) return 'ignored: not a user write';
  let target: string;
  try {
    target = decodeURIComponent(match[1]);
  } catch {
    return 'ignored: not a user write';
  }
  if (method === 'DELETE') return deleteUser(w, target, event.at);
  const body = child(request, 'body');
  if (method !== 'PATCH' || !body || !('phone_number' in body)) return 'ignored: no phone change';
  const e164 = logNumber(body.phone_number, ctx);
  const source: PhoneSource = passwordless(event, target) ? 'passwordless' : 'profile';
  await replaceLinks(w, { userId: target, source, ...(e164 ? { keep: e164 } : {}), at: event.at });
  if (e164 && typeof body.phone_verified === 'boolean')
    await upsertLinks(w, [{ e164, userId: target, source, verified: body.phone_verified, at: event.at }]);
  return e164 ? `${source}_phone_changed` : `${source}_phone_removed`;
}
