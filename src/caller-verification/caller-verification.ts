import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import type { AppDeps } from '../deps.js';
import {
  findInteraction,
  type InteractionFlags,
  type InteractionRecord,
  publishInteraction,
  routingTwiml,
  type TwimlConfig,
  updateInteraction,
} from '../inbound/index.js';
import {
  CALLER_VERIFICATION_PURPOSE,
  hashOtpCode,
  insertOtpDelivery,
  reserveDelivery,
  updateOtpDelivery,
} from '../otp/index.js';
import type { Background } from '../shared/background.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import { describeError } from '../shared/logger.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import { TwilioRestError } from '../twilio/index.js';
import { countWrongAttempt, createVerification, findVerification, settleVerification } from './queries.js';

/**
 * Caller verification in the IVR: caller ID can be spoofed, so when VERIFY_CALLER asks for it the caller
 * proves they hold the phone by keying in a code texted to the calling number. Outcomes land on the
 * interaction (`callerVerification`: pending → verified | failed, or not_attempted when no code could be
 * sent) and are pushed to the agents. Whatever happens, the call is routed: verification informs the
 * agent, it never locks a caller out.
 *
 * A text to whatever number calls is a toll-fraud vector (SMS pumping), so the texts go through the same
 * controls as every code (src/otp's reserveDelivery: OTP_ALLOWED_COUNTRIES and no number of no country, number
 * type, at most OTP_RATE_LIMIT_PER_HOUR per number in a limit of their own, the destination range and the
 * hourly budgets shared with the Auth0 codes and /verify) and are recorded in otp_deliveries with purpose
 * `caller_verification`. When refused, no code is sent: the call is routed, callerVerification
 * stays `not_attempted`, and `flags.verificationSkipped` tells the agent why.
 */

export const CODE_DIGITS = 6;
export const MAX_ATTEMPTS = 3;
export const CODE_TTL_MS = 5 * 60_000;
const GATHER_TIMEOUT_SECONDS = 15;
/** Twilio gives a webhook 15 s; the text must be handed over well within that. */
const SEND_DEADLINE_MS = 6000;

type SayLanguage = NonNullable<VoiceResponse.SayAttributes['language']>;

/** A uniformly random numeric code (rejection sampling: no modulo bias). */
export function generateCode(digits = CODE_DIGITS): string {
  const limit = 10 ** digits;
  const ceiling = Math.floor(0x1_0000_0000 / limit) * limit;
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    const n = buf[0] as number;
    if (n < ceiling) return (n % limit).toString().padStart(digits, '0');
  }
}

function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** SHA-256 over salt, interaction and code: a leaked row names no code without a brute force per row. */
export async function hashCode(salt: string, interactionId: string, code: string): Promise<string> {
  const data = new TextEncoder().encode(`${salt}:${interactionId}:${code}`);
  return toHex(await crypto.subtle.digest('SHA-256', data));
}

// --- TwiML (pure) ---

type VerifyTwimlConfig = TwimlConfig;

const checkUrl = (config: VerifyTwimlConfig, id: string) =>
  `${config.PUBLIC_BASE_URL}/twilio/voice/verify/check?interaction=${encodeURIComponent(id)}`;

/** Asks for the code; no input falls through to the check step, which counts it as a wrong try. */
export function gatherTwiml(
  config: VerifyTwimlConfig,
  input: { interactionId: string; prompt: string },
): string {
  const response = new VoiceResponse();
  const say = { language: config.VOICE_LANGUAGE as SayLanguage };
  const gather = response.gather({
    input: ['dtmf'],
    numDigits: CODE_DIGITS,
    timeout: GATHER_TIMEOUT_SECONDS,
    action: checkUrl(config, input.interactionId),
    method: 'POST',
  });
  gather.say(say, input.prompt);
  response.redirect({ method: 'POST' }, checkUrl(config, input.interactionId));
  return response.toString();
}

/** A sentence, then the normal routing (menu, queue or dial) from the core's routingTwiml. */
export function sayThenRouteTwiml(
  config: VerifyTwimlConfig,
  input: { interactionId: string; message: string },
) {
  const routing = routingTwiml(config, { interactionId: input.interactionId });
  const prefix = new VoiceResponse();
  prefix.say({ language: config.VOICE_LANGUAGE as SayLanguage }, input.message);
  const sayXml = prefix
    .toString()
    .replace(/^.*?<Response>/s, '')
    .replace(/<\/Response>$/, '');
  return routing.includes('<Response/>')
    ? routing.replace('<Response/>', `<Response>${sayXml}</Response>`)
    : routing.replace('<Response>', `<Response>${sayXml}`);
}

export const PROMPTS = {
  first:
    'To confirm your number, we have texted a six digit code to the phone you are calling from. Please enter it now.',
  retry: 'That code is not right. Please enter the six digit code from the text message.',
  verified: 'Thank you, your number is confirmed.',
  failed: 'We could not confirm the code. Connecting you to an agent.',
  expired: 'The code has expired. Connecting you to an agent.',
  unavailable: 'Connecting you to an agent.',
} as const;

/**
 * One GSM-7 segment. It says never to share the code: the one who talks a victim into reading it out is the
 * attack this check exists for.
 */
export function smsBody(code: string): string {
  return `${code} is your code to confirm your call. Key it in on the call yourself. Never share it or read it out to anyone, even our staff. It expires in 5 minutes.`;
}

// --- the flow ---

type Deps = Pick<AppDeps, 'db' | 'config' | 'hub' | 'logger' | 'now' | 'newId' | 'twilio' | 'fetch'>;

/** Stored with the interaction's flags (JSON) and pushed to agents: why no code was texted. */
export interface VerificationFlags extends InteractionFlags {
  verificationSkipped?: string;
}

async function setOutcome(
  deps: Deps,
  record: InteractionRecord,
  outcome: string,
  background: Background,
  flags?: VerificationFlags,
): Promise<void> {
  const patch = flags
    ? { callerVerification: outcome, flags: { ...record.flags, ...flags } }
    : { callerVerification: outcome };
  const updated = await updateInteraction(deps.db, record.twilioSid, patch, deps.now());
  if (updated) publishInteraction(deps as AppDeps, updated, background);
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** `start`: text a code to the caller and ask for it, or route straight away when that is impossible. */
export async function startVerification(
  deps: Deps,
  input: { interactionId: string; callSid: string | undefined },
  background: Background,
): Promise<string> {
  const { config } = deps;
  const route = (message: string) =>
    sayThenRouteTwiml(config, { interactionId: input.interactionId, message });
  const record = await findInteraction(deps.db, input.interactionId);
  // Only the call this interaction belongs to may drive it (the request is signed, this binds it to the call).
  if (record?.channel !== 'voice') return route(PROMPTS.unavailable);
  if (input.callSid && input.callSid !== record.twilioSid) {
    return route(PROMPTS.unavailable);
  }
  if (!record.e164) return route(PROMPTS.unavailable);
  // Without a sender configured (TWILIO_FROM_NUMBER / TWILIO_MESSAGING_SERVICE_SID) the send fails below
  // and the call is routed unverified.
  const { twilio } = deps;
  const code = generateCode();
  const salt = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const { row: verification, created } = await createVerification(
    deps.db,
    {
      interactionId: record.id,
      codeHash: await hashCode(salt, record.id, code),
      salt,
      expiresAt: deps.now() + CODE_TTL_MS,
    },
    deps.now(),
  );
  if (!created) {
    // Twilio retried `start`, or the call came back here: never text a second code.
    return verification.outcome === 'pending' && verification.expiresAt > deps.now()
      ? gatherTwiml(config, { interactionId: record.id, prompt: PROMPTS.first })
      : route(PROMPTS.unavailable);
  }
  const at = deps.now();
  const number = normalizePhone(record.e164, { region: config.DEFAULT_REGION });
  const delivery = {
    id: deps.newId(),
    recipient: record.e164,
    userId: null,
    channel: 'sms' as const,
    purpose: CALLER_VERIFICATION_PURPOSE,
    trigger: 'ivr',
    status: 'refused' as const,
    reason: null,
    codeHash: await hashOtpCode(config.SESSION_SECRET, record.e164, code),
    twilioSid: null,
    country: number.ok ? (number.country ?? null) : null,
    numberType: number.ok ? (number.type ?? null) : null,
    createdAt: at,
    updatedAt: at,
  };
  const refused = await reserveDelivery(deps, delivery);
  if (refused) {
    await insertOtpDelivery(deps.db, { ...delivery, reason: refused });
    deps.logger.warn('caller verification text refused', { to: maskPhone(record.e164), reason: refused });
    await settleVerification(deps.db, record.id, 'send_failed', at);
    await setOutcome(deps, record, 'not_attempted', background, { verificationSkipped: refused });
    return route(PROMPTS.unavailable);
  }
  let sid: string;
  try {
    const sent = await withDeadline(
      twilio.sendSms({ to: record.e164, body: smsBody(code) }),
      SEND_DEADLINE_MS,
    );
    sid = sent.sid;
  } catch (err) {
    deps.logger.warn('caller verification text not sent', {
      to: maskPhone(record.e164),
      error: describeError(err),
    });
    const reason = err instanceof TwilioRestError ? err.reason : 'send_failed';
    await updateOtpDelivery(deps.db, delivery.id, { status: 'failed', reason }, deps.now());
    await settleVerification(deps.db, record.id, 'send_failed', deps.now());
    return route(PROMPTS.unavailable);
  }
  await updateOtpDelivery(deps.db, delivery.id, { status: 'sent', twilioSid: sid }, deps.now());
  await setOutcome(deps, record, 'pending', background);
  return gatherTwiml(config, { interactionId: record.id, prompt: PROMPTS.first });
}

/** `check`: the digits keyed in (or none, after the Gather timed out). */
export async function checkVerification(
  deps: Deps,
  input: { interactionId: string; digits: string | undefined },
  background: Background,
): Promise<string> {
  const { config } = deps;
  const id = input.interactionId;
  const route = (message: string) => sayThenRouteTwiml(config, { interactionId: id, message });
  const [record, row] = await Promise.all([findInteraction(deps.db, id), findVerification(deps.db, id)]);
  if (!record || !row || row.outcome !== 'pending') {
    const message = row?.outcome === 'verified' ? PROMPTS.verified : PROMPTS.unavailable;
    return route(message);
  }
  const now = deps.now();
  if (row.expiresAt <= now) {
    if (await settleVerification(deps.db, id, 'failed', now))
      await setOutcome(deps, record, 'failed', background);
    return route(PROMPTS.expired);
  }
  const digits = (input.digits ?? '').replace(/\D/g, '');
  if (
    digits.length === CODE_DIGITS &&
    constantTimeEqual(await hashCode(row.salt, id, digits), row.codeHash)
  ) {
    if (await settleVerification(deps.db, id, 'verified', now))
      await setOutcome(deps, record, 'verified', background);
    return route(PROMPTS.verified);
  }
  const attempts = await countWrongAttempt(deps.db, id, MAX_ATTEMPTS, now);
  if (attempts === undefined || attempts >= MAX_ATTEMPTS) {
    if (await settleVerification(deps.db, id, 'failed', now))
      await setOutcome(deps, record, 'failed', background);
    return route(PROMPTS.failed);
  }
  return gatherTwiml(config, { interactionId: id, prompt: PROMPTS.retry });
}
