import type { AppDeps } from '../deps.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import {
  claimRedirectToken,
  createVerifySession,
  findVerifySession,
  resetToNumberStep,
  unverifyProfileNumber,
  type VerifySession,
} from './queries.js';
import {
  base64UrlEncode,
  createResultToken,
  RedirectTokenError,
  sha256Hex,
  verifyIncomingToken,
} from './redirect-token.js';
import { VerifyProblem, type VerifySetup } from './setup.js';

/**
 * The verification session's tokens: the Action's redirect token opens it, a cookie carries it, a CSRF
 * token guards its forms, and a result token bound to its state and user sends the user back to Auth0.
 */

/** How long the page stays usable after the redirect: enough to wait for a text and retype a code. */
export const SESSION_TTL_MS = 15 * 60_000;

function randomToken(bytes = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Opens a session from the Action's redirect: the token must verify and must never have been used. The
 * session is bound to the `state` query parameter Auth0 sent beside the token (the token has no `state`
 * claim); the result token carries that state back. Returns the cookie value (the session's only credential).
 */
export async function openSession(
  deps: AppDeps,
  setup: VerifySetup,
  input: { token: string; state: string },
): Promise<{ cookie: string; account: string | null }> {
  const now = deps.now();
  let claims: Awaited<ReturnType<typeof verifyIncomingToken>>;
  try {
    claims = await verifyIncomingToken(input.token, {
      secrets: setup.redirectSecrets,
      auth0Domain: setup.auth0Domain,
      now,
    });
  } catch (err) {
    if (err instanceof RedirectTokenError) {
      deps.logger.warn('verify: redirect token refused', { problem: err.problem });
      throw new VerifyProblem(err.problem === 'expired' ? 'expired' : 'invalid', 401);
    }
    throw err;
  }
  const claimed = await claimRedirectToken(deps.db, {
    hash: claims.usedKey,
    userId: claims.sub,
    at: now,
    expiresAt: (claims.exp + 60) * 1000,
  });
  if (!claimed) {
    deps.logger.warn('verify: redirect token reused', { userId: claims.sub });
    throw new VerifyProblem('reused', 401);
  }

  const region = deps.config.DEFAULT_REGION;
  const known = claims.phone ? normalizePhone(claims.phone, { region }) : null;
  const e164 = known?.ok ? known.e164 : null;
  const previous = claims.verifiedPhone ? normalizePhone(claims.verifiedPhone, { region }) : null;
  const previousE164 = previous?.ok && previous.e164 !== e164 ? previous.e164 : null;
  // The profile names another number than the verified one: the old one stops counting as verified now,
  // whether or not the user finishes verifying the new one.
  if (previousE164) await unverifyProfileNumber(deps.db, { userId: claims.sub, e164: previousE164, at: now });

  const cookie = randomToken();
  await createVerifySession(deps.db, {
    id: await sha256Hex(cookie),
    userId: claims.sub,
    state: input.state,
    csrfToken: randomToken(),
    status: 'number',
    e164,
    previousE164,
    channel: null,
    lastSentAt: null,
    verificationSid: null,
    verifiedAt: null,
    resultId: null,
    confirmedAt: null,
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  });
  deps.logger.info('verify: session opened', { userId: claims.sub, knownNumber: e164 !== null });
  return { cookie, account: claims.account ?? null };
}

export async function loadSession(deps: AppDeps, cookie: string | undefined): Promise<VerifySession | null> {
  if (!cookie || cookie.length > 100) return null;
  return findVerifySession(deps.db, await sha256Hex(cookie), deps.now());
}

/** Constant-time comparison of the form's CSRF token with the session's. */
export function csrfMatches(session: VerifySession, sent: unknown): boolean {
  return typeof sent === 'string' && constantTimeEqual(session.csrfToken, sent);
}

/**
 * The only place the user is sent back to: `{AUTH0_CONTINUE_BASE_URL or https://AUTH0_DOMAIN}/continue`,
 * with the state the session was opened with and a fresh result token bound to that state and user.
 */
export async function continueUrl(
  deps: AppDeps,
  setup: VerifySetup,
  session: VerifySession,
): Promise<string> {
  if (!session.e164 || !session.resultId) throw new Error('continueUrl needs a verified number');
  const [signingSecret] = setup.redirectSecrets;
  if (!signingSecret) throw new Error('no redirect secret');
  const token = await createResultToken({
    secret: signingSecret,
    issuer: deps.config.PUBLIC_BASE_URL,
    auth0Domain: setup.auth0Domain,
    sub: session.userId,
    state: session.state,
    phone: session.e164,
    now: deps.now(),
    resultId: session.resultId,
  });
  const url = new URL(`${setup.continueBase}/continue`);
  url.searchParams.set('state', session.state);
  url.searchParams.set('session_token', token);
  return url.toString();
}

export async function changeNumber(deps: AppDeps, session: VerifySession): Promise<void> {
  await resetToNumberStep(deps.db, session.id);
}
