/**
 * Twilio REST (Messages and Calls) over plain fetch.
 *
 * The `twilio` SDK's root import weighs 8 MB in a Worker (see STACK.md); the two calls callerpop makes are
 * one form-encoded POST each, so they are written here against the documented API:
 *
 *   POST {TWILIO_API_BASE_URL}/2010-04-01/Accounts/{AccountSid}/Messages.json  To, From | MessagingServiceSid, Body
 *   POST {TWILIO_API_BASE_URL}/2010-04-01/Accounts/{AccountSid}/Calls.json     To, From, Twiml
 *
 * with HTTP Basic auth (Account SID : auth token). Usage:
 *
 *   const twilio = createTwilioRest({ config, fetch });
 *   try { const { sid } = await twilio.sendSms({ to: '+14155550100', body: 'hi' }); }
 *   catch (err) { if (err instanceof TwilioRestError && err.transient) retryLater(); }
 *
 * Every failure is a `TwilioRestError`: `transient` says whether trying again later can help (network error,
 * timeout, 429, 5xx) or not (any other 4xx: invalid 'To' 21211, unsubscribed 21610, region not enabled 21408,
 * bad credentials 20003, no sender configured). `code` is Twilio's error code when Twilio sent one.
 * Runs on Workers and Node: no `node:*`, no Buffer.
 */
import type { Config } from '../config.js';

export interface TwilioRestOptions {
  config: Pick<
    Config,
    | 'TWILIO_API_BASE_URL'
    | 'TWILIO_ACCOUNT_SID'
    | 'TWILIO_AUTH_TOKEN'
    | 'TWILIO_FROM_NUMBER'
    | 'TWILIO_MESSAGING_SERVICE_SID'
  >;
  fetch: typeof fetch;
  /**
   * Per request; Twilio normally answers in well under a second. Default 7 s: an OTP relay answers the
   * Action (which waits 9 s per attempt, 20 s per flow) before the Action gives up.
   */
  timeoutMs?: number;
}

/** A created Message or Call resource, as far as callerpop cares. */
export interface TwilioResource {
  sid: string;
  status: string;
}

/** Sends through Twilio's REST API (Messages, Calls): what the app needs of it. */
export interface TwilioRest {
  sendSms(input: { to: string; body: string }): Promise<{ sid: string }>;
  /** Places a call that plays the given TwiML (used to read a code aloud). */
  startCall(input: { to: string; twiml: string }): Promise<{ sid: string }>;
}

export interface TwilioRestClient extends TwilioRest {
  sendSms(input: { to: string; body: string }): Promise<TwilioResource>;
  startCall(input: { to: string; twiml: string }): Promise<TwilioResource>;
}

/** Twilio codes answered with a 4xx that nevertheless clear up on their own. */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([20429]);

export class TwilioRestError extends Error {
  /** Trying again later may succeed (network, timeout, 429, 5xx). */
  readonly transient: boolean;
  /** HTTP status; null when no answer came back. */
  readonly status: number | null;
  /** Twilio's error code (https://www.twilio.com/docs/api/errors), when Twilio sent one. */
  readonly code: number | null;
  readonly moreInfo: string | null;

  constructor(
    message: string,
    details: { transient: boolean; status: number | null; code?: number | null; moreInfo?: string | null },
  ) {
    super(message);
    this.name = 'TwilioRestError';
    this.transient = details.transient;
    this.status = details.status;
    this.code = details.code ?? null;
    this.moreInfo = details.moreInfo ?? null;
  }

  /** A short machine-friendly reason for records: `twilio_21211`, `http_503`, `network`, `timeout`, `config`. */
  get reason(): string {
    if (this.code !== null) return `twilio_${this.code}`;
    if (this.status !== null) return `http_${this.status}`;
    return this.transient ? (this.message.includes('timed out') ? 'timeout' : 'network') : 'config';
  }
}

function basicAuth(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

interface TwilioErrorJson {
  code?: unknown;
  message?: unknown;
  more_info?: unknown;
  status?: unknown;
}

async function errorFromResponse(res: Response): Promise<TwilioRestError> {
  let body: TwilioErrorJson = {};
  try {
    const parsed: unknown = await res.json();
    if (parsed && typeof parsed === 'object') body = parsed as TwilioErrorJson;
  } catch {
    // Not JSON (a proxy's error page): the status alone decides.
  }
  const code = typeof body.code === 'number' ? body.code : null;
  const message = typeof body.message === 'string' ? body.message : `Twilio answered HTTP ${res.status}`;
  const transient = res.status === 429 || res.status >= 500 || (code !== null && TRANSIENT_CODES.has(code));
  return new TwilioRestError(message, {
    transient,
    status: res.status,
    code,
    moreInfo: typeof body.more_info === 'string' ? body.more_info : null,
  });
}

export function createTwilioRest(options: TwilioRestOptions): TwilioRestClient {
  const { config } = options;
  const timeoutMs = options.timeoutMs ?? 7_000;
  const accountUrl = `${config.TWILIO_API_BASE_URL}/2010-04-01/Accounts/${encodeURIComponent(config.TWILIO_ACCOUNT_SID)}`;
  const authorization = basicAuth(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN);

  async function post(
    resource: 'Messages' | 'Calls',
    fields: Record<string, string>,
  ): Promise<TwilioResource> {
    let res: Response;
    try {
      res = await options.fetch(`${accountUrl}/${resource}.json`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams(fields).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new TwilioRestError(
        timedOut ? `Twilio ${resource} request timed out after ${timeoutMs} ms` : `Twilio unreachable`,
        { transient: true, status: null },
      );
    }
    if (!res.ok) throw await errorFromResponse(res);
    const json = (await res.json().catch(() => null)) as { sid?: unknown; status?: unknown } | null;
    if (!json || typeof json.sid !== 'string') {
      throw new TwilioRestError(`Twilio ${resource} answered without a sid`, {
        transient: true,
        status: res.status,
      });
    }
    return { sid: json.sid, status: typeof json.status === 'string' ? json.status : 'unknown' };
  }

  return {
    async sendSms({ to, body }) {
      // A Messaging Service picks the best sender per destination (and handles opt-outs); prefer it.
      if (config.TWILIO_MESSAGING_SERVICE_SID) {
        return post('Messages', {
          To: to,
          MessagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
          Body: body,
        });
      }
      if (config.TWILIO_FROM_NUMBER)
        return post('Messages', { To: to, From: config.TWILIO_FROM_NUMBER, Body: body });
      throw new TwilioRestError('No SMS sender: set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID', {
        transient: false,
        status: null,
      });
    },
    async startCall({ to, twiml }) {
      // Calls need a caller ID number; a Messaging Service cannot place calls.
      if (!config.TWILIO_FROM_NUMBER) {
        throw new TwilioRestError('No caller ID for voice: set TWILIO_FROM_NUMBER', {
          transient: false,
          status: null,
        });
      }
      return post('Calls', { To: to, From: config.TWILIO_FROM_NUMBER, Twiml: twiml });
    },
  };
}
