import type { VerifyChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import {
  type BudgetRefusal,
  type DestinationRefusal,
  destinationRefusal,
  insertOtpDelivery,
  type OtpDeliveryRow,
  PHONE_VERIFICATION_PURPOSE,
  reserveBudget,
  updateOtpDelivery,
} from '../otp/index.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import { TwilioVerifyError, VERIFY_ERRORS } from '../twilio/index.js';
import {
  type AttemptLimit,
  attemptLimitReached,
  findOtherPendingVerifications,
  markVerified,
  recordAttempt,
  recordCodeSent,
  type VerifySession,
  verificationHeldElsewhere,
} from './queries.js';
import { continueUrl } from './session.js';
import type { FieldError, VerifySetup } from './setup.js';

/**
 * Sending and checking codes through Twilio Verify. A session owns the verification it started (its SID) and
 * checks codes only against it. Limits count per (user, number), per user and per session, never per number
 * alone, and a refused attempt is not counted; every send also passes the toll-fraud budget shared with the
 * OTP relay and the IVR (src/otp), recorded in otp_deliveries.
 */

/** The window the limits count over. */
export const LIMIT_WINDOW_MS = 60 * 60_000;

const LIMIT_WORDS: Record<'send' | 'check', Record<AttemptLimit, string>> = {
  send: {
    user_number: 'Too many codes were requested for this number. Please try again in an hour.',
    user: 'Too many codes were requested. Please try again in an hour.',
    session: 'Too many codes were requested. Please try again in an hour.',
  },
  check: {
    user_number: 'Too many attempts. Please try again in an hour.',
    user: 'Too many attempts. Please try again in an hour.',
    session: 'Too many attempts. Please try again in an hour.',
  },
};

const DESTINATION_WORDS: Record<DestinationRefusal, (channel: VerifyChannel) => string> = {
  no_country: () => 'Codes cannot be sent to this kind of number. Enter a number of a country.',
  country_not_allowed: () => 'Codes cannot be sent to numbers in this country. Enter another number.',
  number_type_not_allowed: (channel) =>
    channel === 'call'
      ? 'This number cannot receive a code. Enter a mobile or landline number.'
      : 'This number cannot receive text messages. Enter a mobile number, or ask for a call.',
};

const BUDGET_WORDS: Record<BudgetRefusal, string> = {
  rate_limited_range: 'Codes cannot be sent to this number just now. Please try again later.',
  country_budget_spent: 'Codes cannot be sent just now. Please try again later.',
  hourly_budget_spent: 'Codes cannot be sent just now. Please try again later.',
};

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
  const log = { userId: session.userId, phone: maskPhone(e164) };
  const destination = { country: normalized.country ?? null, numberType: normalized.type ?? null };
  const refused = destinationRefusal(deps.config, destination, input.channel === 'call' ? 'voice' : 'sms');
  if (refused) {
    deps.logger.warn('verify: number refused', { ...log, refused });
    return { field, message: DESTINATION_WORDS[refused](input.channel), status: 400 };
  }

  const wait = cooldownRemaining(deps, session);
  if (wait > 0)
    return { field, message: `Please wait ${wait} seconds before asking for another code.`, status: 429 };

  const now = deps.now();
  const delivery: OtpDeliveryRow = {
    id: deps.newId(),
    recipient: e164,
    userId: session.userId,
    channel: input.channel === 'call' ? 'voice' : 'sms',
    purpose: PHONE_VERIFICATION_PURPOSE,
    trigger: 'verify_page',
    status: 'refused',
    reason: null,
    codeHash: null,
    twilioSid: null,
    ...destination,
    createdAt: now,
    updatedAt: now,
  };
  const attempt = { kind: 'send' as const, e164, userId: session.userId, sessionId: session.id };
  const outcome = await deps.db.transaction(async (tx) => {
    const limited = await attemptLimitReached(tx, {
      ...attempt,
      since: now - LIMIT_WINDOW_MS,
      max: deps.config.VERIFY_MAX_SENDS_PER_HOUR,
    });
    if (limited) return { limited };
    const budget = await reserveBudget(tx, deps.config, delivery);
    if (budget) return { budget };
    await recordAttempt(tx, { ...attempt, at: now });
    return {};
  });
  if (outcome.limited) {
    deps.logger.warn('verify: send limit reached', { ...log, by: outcome.limited });
    return { field, message: LIMIT_WORDS.send[outcome.limited], status: 429 };
  }
  if (outcome.budget) {
    await insertOtpDelivery(deps.db, { ...delivery, reason: outcome.budget });
    const level = outcome.budget === 'rate_limited_range' ? 'warn' : 'error';
    deps.logger[level]('verify: toll-fraud budget refused a code', { ...log, reason: outcome.budget });
    return { field, message: BUDGET_WORDS[outcome.budget], status: 429 };
  }

  let sid: string;
  try {
    sid = await startOwnVerification(deps, setup, session, { e164, channel: input.channel, at: now });
  } catch (err) {
    const reason = err instanceof TwilioVerifyError && err.code ? `twilio_${err.code}` : 'send_failed';
    await updateOtpDelivery(deps.db, delivery.id, { status: 'failed', reason }, deps.now());
    return twilioSendError(deps, session, e164, err, field);
  }
  await updateOtpDelivery(deps.db, delivery.id, { status: 'sent', twilioSid: sid }, deps.now());
  await recordCodeSent(deps.db, {
    sessionId: session.id,
    e164,
    channel: input.channel,
    verificationSid: sid,
    at: now,
  });
  deps.logger.info('verify: code sent', { ...log, channel: input.channel });
  return null;
}

/**
 * Starts a Twilio verification this session alone holds. Twilio keeps one pending verification per number
 * (a new request within its validity gets "the same token"), so another session's pending verification for
 * the number is canceled first, and a SID that still comes back held by another open session (two sends at
 * once) is canceled and started again: a session never checks codes against a verification it shares, so one
 * person's wrong codes never use up another's attempts.
 */
async function startOwnVerification(
  deps: AppDeps,
  setup: VerifySetup,
  session: VerifySession,
  input: { e164: string; channel: VerifyChannel; at: number },
): Promise<string> {
  const verify = setup.twilioVerify;
  const others = await findOtherPendingVerifications(deps.db, {
    e164: input.e164,
    sessionId: session.id,
    now: input.at,
  });
  for (const other of others) await verify.cancelVerification(other);
  if (others.length > 0)
    deps.logger.info('verify: another session’s pending code for this number was canceled', {
      userId: session.userId,
      phone: maskPhone(input.e164),
      canceled: others.length,
    });
  for (let tries = 0; ; tries++) {
    const started = await verify.startVerification({ to: input.e164, channel: input.channel });
    const held = await verificationHeldElsewhere(deps.db, {
      verificationSid: started.sid,
      sessionId: session.id,
      now: input.at,
    });
    if (!held) return started.sid;
    await verify.cancelVerification(started.sid);
    if (tries >= 1)
      throw new TwilioVerifyError(409, null, 'the verification stayed shared with another session');
  }
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
  const verificationSid = session.verificationSid;
  if (session.status !== 'code' || !e164 || !verificationSid)
    return { ok: false, error: { field: 'form', message: 'Ask for a code first.', status: 400 } };

  const now = deps.now();
  const attempt = { kind: 'check' as const, e164, userId: session.userId, sessionId: session.id };
  const limited = await deps.db.transaction(async (tx) => {
    const reached = await attemptLimitReached(tx, {
      ...attempt,
      since: now - LIMIT_WINDOW_MS,
      max: deps.config.VERIFY_MAX_CHECKS_PER_HOUR,
    });
    if (!reached) await recordAttempt(tx, { ...attempt, at: now });
    return reached;
  });
  if (limited) {
    deps.logger.warn('verify: check limit reached', {
      userId: session.userId,
      phone: maskPhone(e164),
      by: limited,
    });
    return { ok: false, error: { field: 'code', message: LIMIT_WORDS.check[limited], status: 429 } };
  }

  let approved = false;
  try {
    const result = await setup.twilioVerify.checkCode({ verificationSid, code });
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

  const resultId = deps.newId();
  await markVerified(deps.db, { sessionId: session.id, e164, resultId, at: now });
  deps.logger.info('verify: phone verified; indexed once the Action confirms', {
    userId: session.userId,
    phone: maskPhone(e164),
  });
  return { ok: true, continueUrl: await continueUrl(deps, setup, { ...session, e164, resultId }) };
}
