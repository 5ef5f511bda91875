import type { VerifyChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { destinationRefusal } from '../otp/index.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import { TwilioVerifyError, VERIFY_ERRORS } from '../twilio/index.js';
import { completeVerification, recordCodeSent, takeAttempt, type VerifySession } from './queries.js';
import { continueUrl } from './session.js';
import type { FieldError, VerifySetup } from './setup.js';

/**
 * Sending and checking codes through Twilio Verify, under the resend cooldown and the hourly per-number
 * and per-user limits; a checked code indexes the number and yields the return address.
 */

/** The window the per-number and per-user limits count over. */
export const LIMIT_WINDOW_MS = 60 * 60_000;

/**
 * Counts one send or check against the hourly per-number and per-user limits; false (and a warning in the
 * log) once either is used up.
 */
async function withinLimit(
  deps: AppDeps,
  session: VerifySession,
  attempt: { kind: 'send' | 'check'; e164: string; at: number },
): Promise<boolean> {
  const limit = await takeAttempt(deps.db, {
    kind: attempt.kind,
    e164: attempt.e164,
    userId: session.userId,
    at: attempt.at,
    windowMs: LIMIT_WINDOW_MS,
    max:
      attempt.kind === 'send'
        ? deps.config.VERIFY_MAX_SENDS_PER_HOUR
        : deps.config.VERIFY_MAX_CHECKS_PER_HOUR,
  });
  if (limit.allowed) return true;
  deps.logger.warn(`verify: ${attempt.kind} limit reached`, {
    userId: session.userId,
    phone: maskPhone(attempt.e164),
    by: limit.limitedBy,
  });
  return false;
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
  if (!(await withinLimit(deps, session, { kind: 'send', e164, at: now })))
    return { field, message: 'Too many codes were requested. Please try again in an hour.', status: 429 };

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
  if (!(await withinLimit(deps, session, { kind: 'check', e164, at: now })))
    return {
      ok: false,
      error: { field: 'code', message: 'Too many attempts. Please try again in an hour.', status: 429 },
    };

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
