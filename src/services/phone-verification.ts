import {
  claimRedirectToken,
  completeVerification,
  createVerifySession,
  findVerifySession,
  recordCodeSent,
  resetToNumberStep,
  takeAttempt,
  unverifyProfileNumber,
  type VerifySession,
} from '../db/phone-verification.js';
import type { VerifyChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { maskPhone, normalizePhone } from '../phone/normalize.js';
import { destinationRefusal } from './otp-relay.js';
import {
  bareDomain,
  base64UrlEncode,
  createResultToken,
  deriveRedirectSecret,
  RedirectTokenError,
  sha256Hex,
  verifyIncomingToken,
} from './redirect-token.js';
import { createTwilioVerify, type TwilioVerify, TwilioVerifyError, VERIFY_ERRORS } from './twilio-verify.js';

/**
 * The verification flow behind /verify: open a session from the Action's token, send a code, check it,
 * index the verified number, and build the one return address (from configuration only).
 */

/** How long the page stays usable after the redirect: enough to wait for a text and retype a code. */
export const SESSION_TTL_MS = 15 * 60_000;
/** The window the per-number and per-user limits count over. */
export const LIMIT_WINDOW_MS = 60 * 60_000;

/** Why the page cannot go on; each has its own words on the problem page. */
export type ProblemKind =
  | 'not_configured'
  | 'missing'
  | 'invalid'
  | 'expired'
  | 'reused'
  | 'no_session'
  | 'csrf';

export class VerifyProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly status: 400 | 401 | 403 | 503,
  ) {
    super(kind);
    this.name = 'VerifyProblem';
  }
}

/** A problem the user can fix on the page: shown next to the field it is about. */
export interface FieldError {
  field: 'phone' | 'code' | 'form';
  message: string;
  status: 400 | 429 | 502;
}

export interface VerifySetup {
  auth0Domain: string;
  continueBase: string;
  redirectSecret: string;
  twilioVerify: TwilioVerify;
}

/** What the page needs from configuration; null when the operator has not set it up. */
export async function loadVerifySetup(deps: AppDeps): Promise<VerifySetup | null> {
  const { config } = deps;
  if (!config.AUTH0_DOMAIN || !config.TWILIO_VERIFY_SERVICE_SID) return null;
  const auth0Domain = bareDomain(config.AUTH0_DOMAIN);
  return {
    auth0Domain,
    continueBase: (config.AUTH0_CONTINUE_BASE_URL ?? `https://${auth0Domain}`).replace(/\/+$/, ''),
    redirectSecret: await deriveRedirectSecret(config.AUTH0_WEBHOOK_SECRET),
    twilioVerify: createTwilioVerify({
      baseUrl: config.TWILIO_VERIFY_BASE_URL,
      serviceSid: config.TWILIO_VERIFY_SERVICE_SID,
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      fetch: deps.fetch,
    }),
  };
}

function randomToken(bytes = 32): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Opens a session from the Action's redirect: the token must verify and must never have been used.
 * Returns the cookie value (the session's only credential).
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
      secret: setup.redirectSecret,
      auth0Domain: setup.auth0Domain,
      state: input.state,
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
    hash: await sha256Hex(input.token),
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
    state: claims.state,
    csrfToken: randomToken(),
    status: 'number',
    e164,
    previousE164,
    channel: null,
    lastSentAt: null,
    verifiedAt: null,
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
  if (typeof sent !== 'string') return false;
  const a = new TextEncoder().encode(session.csrfToken);
  const b = new TextEncoder().encode(sent);
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function cooldownRemaining(deps: AppDeps, session: VerifySession): number {
  if (session.lastSentAt === null) return 0;
  const left = session.lastSentAt + deps.config.VERIFY_RESEND_COOLDOWN_SECONDS * 1000 - deps.now();
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/** Sends a code to a typed number (number step) or again to the session's number (resend, voice fallback). */
export async function sendCode(
  deps: AppDeps,
  setup: VerifySetup,
  session: VerifySession,
  input: { phone?: unknown; channel: VerifyChannel },
): Promise<FieldError | null> {
  const field = input.phone === undefined ? 'form' : 'phone';
  if (input.phone === undefined && !session.e164)
    return { field, message: 'Enter your phone number first.', status: 400 };
  const normalized = normalizePhone(input.phone ?? session.e164, { region: deps.config.DEFAULT_REGION });
  if (!normalized.ok)
    return {
      field,
      message: `Enter a valid phone number. Start with + and the country code if it is not a ${deps.config.DEFAULT_REGION} number.`,
      status: 400,
    };
  const e164 = normalized.e164;
  // The toll-fraud destination checks of the Auth0 codes (OTP_ALLOWED_COUNTRIES, number type).
  const refused = destinationRefusal(
    deps.config,
    { country: normalized.country ?? null, numberType: normalized.type ?? null },
    input.channel === 'call' ? 'voice' : 'sms',
  );
  if (refused) {
    deps.logger.warn('verify: number refused', { userId: session.userId, phone: maskPhone(e164), refused });
    return {
      field,
      message:
        refused === 'country_not_allowed'
          ? 'Codes cannot be sent to numbers in this country. Enter another number.'
          : input.channel === 'call'
            ? 'This number cannot receive a code. Enter a mobile or landline number.'
            : 'This number cannot receive text messages. Enter a mobile number, or ask for a call.',
      status: 400,
    };
  }

  const wait = cooldownRemaining(deps, session);
  if (wait > 0)
    return { field, message: `Please wait ${wait} seconds before asking for another code.`, status: 429 };

  const now = deps.now();
  const limit = await takeAttempt(deps.db, {
    kind: 'send',
    e164,
    userId: session.userId,
    at: now,
    windowMs: LIMIT_WINDOW_MS,
    max: deps.config.VERIFY_MAX_SENDS_PER_HOUR,
  });
  if (!limit.allowed) {
    deps.logger.warn('verify: send limit reached', {
      userId: session.userId,
      phone: maskPhone(e164),
      by: limit.limitedBy,
    });
    return { field, message: 'Too many codes were requested. Please try again in an hour.', status: 429 };
  }

  try {
    await setup.twilioVerify.startVerification({ to: e164, channel: input.channel });
  } catch (err) {
    return twilioSendError(deps, session, e164, err, field);
  }
  await recordCodeSent(deps.db, { sessionId: session.id, e164, channel: input.channel, at: now });
  deps.logger.info('verify: code sent', {
    userId: session.userId,
    phone: maskPhone(e164),
    channel: input.channel,
  });
  return null;
}

function twilioSendError(
  deps: AppDeps,
  session: VerifySession,
  e164: string,
  err: unknown,
  field: FieldError['field'],
): FieldError {
  if (!(err instanceof TwilioVerifyError)) throw err;
  deps.logger.warn('verify: Twilio refused to send', {
    userId: session.userId,
    phone: maskPhone(e164),
    status: err.status,
    code: err.code,
  });
  switch (err.code) {
    case VERIFY_ERRORS.invalidParameter:
      return { field, message: 'This number cannot receive codes. Check it and try again.', status: 400 };
    case VERIFY_ERRORS.landlineSms:
      return {
        field,
        message: 'This number cannot receive text messages. Choose “Call me” instead.',
        status: 400,
      };
    case VERIFY_ERRORS.maxSendAttempts:
      return {
        field,
        message: 'Too many codes were sent to this number. Please try again later.',
        status: 429,
      };
    default:
      return {
        field,
        message: 'We could not send a code just now. Please try again in a minute.',
        status: 502,
      };
  }
}

export type CheckOutcome = { ok: true; continueUrl: string } | { ok: false; error: FieldError };

/** Checks the typed code with Twilio; on success indexes the number and builds the return address. */
export async function checkCode(
  deps: AppDeps,
  setup: VerifySetup,
  session: VerifySession,
  rawCode: unknown,
): Promise<CheckOutcome> {
  const code = typeof rawCode === 'string' ? rawCode.replace(/[\s-]/g, '') : '';
  if (!/^\d{4,10}$/.test(code))
    return {
      ok: false,
      error: { field: 'code', message: 'Enter the code from the message: digits only.', status: 400 },
    };
  const e164 = session.e164;
  if (session.status !== 'code' || !e164)
    return { ok: false, error: { field: 'form', message: 'Ask for a code first.', status: 400 } };

  const now = deps.now();
  const limit = await takeAttempt(deps.db, {
    kind: 'check',
    e164,
    userId: session.userId,
    at: now,
    windowMs: LIMIT_WINDOW_MS,
    max: deps.config.VERIFY_MAX_CHECKS_PER_HOUR,
  });
  if (!limit.allowed) {
    deps.logger.warn('verify: check limit reached', {
      userId: session.userId,
      phone: maskPhone(e164),
      by: limit.limitedBy,
    });
    return {
      ok: false,
      error: { field: 'code', message: 'Too many attempts. Please try again in an hour.', status: 429 },
    };
  }

  let approved = false;
  try {
    const result = await setup.twilioVerify.checkCode({ to: e164, code });
    approved = result.status === 'approved' && result.valid;
  } catch (err) {
    if (!(err instanceof TwilioVerifyError)) throw err;
    deps.logger.warn('verify: Twilio refused the check', {
      userId: session.userId,
      status: err.status,
      code: err.code,
    });
    if (err.code === VERIFY_ERRORS.maxCheckAttempts)
      return {
        ok: false,
        error: { field: 'code', message: 'Too many wrong codes. Ask for a new code below.', status: 429 },
      };
    if (err.code === VERIFY_ERRORS.notFound)
      return {
        ok: false,
        error: { field: 'code', message: 'This code has expired. Ask for a new code below.', status: 400 },
      };
    return {
      ok: false,
      error: {
        field: 'code',
        message: 'We could not check the code just now. Please try again.',
        status: 502,
      },
    };
  }
  if (!approved) {
    deps.logger.info('verify: wrong code', { userId: session.userId, phone: maskPhone(e164) });
    return {
      ok: false,
      error: {
        field: 'code',
        message: 'That code is not right. Check the latest message and try again.',
        status: 400,
      },
    };
  }

  await completeVerification(deps.db, { sessionId: session.id, userId: session.userId, e164, at: now });
  deps.logger.info('verify: phone verified', { userId: session.userId, phone: maskPhone(e164) });
  return { ok: true, continueUrl: await continueUrl(deps, setup, { ...session, e164 }) };
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
  if (!session.e164) throw new Error('continueUrl needs a verified number');
  const token = await createResultToken({
    secret: setup.redirectSecret,
    issuer: deps.config.PUBLIC_BASE_URL,
    auth0Domain: setup.auth0Domain,
    sub: session.userId,
    state: session.state,
    phone: session.e164,
    now: deps.now(),
    jti: deps.newId(),
  });
  const url = new URL(`${setup.continueBase}/continue`);
  url.searchParams.set('state', session.state);
  url.searchParams.set('session_token', token);
  return url.toString();
}

export async function changeNumber(deps: AppDeps, session: VerifySession): Promise<void> {
  await resetToNumberStep(deps.db, session.id);
}
