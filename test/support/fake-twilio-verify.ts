import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Twilio Verify v2, following the documented contract of the endpoints callerpop uses. Pages, all
 * twilio.com: `API` = /docs/verify/api/verification and /docs/verify/api/verification-check (and Twilio's
 * OpenAPI spec, twilio/twilio-oai `spec/json/twilio_verify_v2.json`, whose descriptions are the same text),
 * `LIMITS` = /docs/verify/api/rate-limits-and-timeouts, `ERR` = /docs/errors/<code>.
 * - POST /v2/Services/{ServiceSid}/Verifications (form To, Channel): 201 with a verification, status
 *   `pending` (API). "Tokens are valid for a default period of 10 minutes … The token remains the same during
 *   its validity period … if your user makes another request within that period, they will receive the same
 *   token" (LIMITS, "Code validity period"): a new request re-sends the same code. Whether it also returns the
 *   same verification SID is not documented (seen so, third-party): `readings.resendSid` plays both.
 *   The 6th send is refused: 60203 "Max send attempts reached", HTTP 429 (ERR 60203).
 * - POST /v2/Services/{ServiceSid}/VerificationCheck (form To or VerificationSid, Code; "Either this parameter
 *   or the `to` … must be specified", API): `approved` (valid: true) or, for a wrong code, 200 with `pending`
 *   (valid: false; third-party observation, the docs show no wrong-code response). The 6th check is refused:
 *   60202 "Max (5) verification check attempts reached", HTTP 429 (ERR 60202). A verification approved or
 *   expired is "soft deleted": any later request for it is 20404, HTTP 404 (ERR 20404).
 * - POST /v2/Services/{ServiceSid}/Verifications/{Sid} (form Status=canceled|approved; API "Update a
 *   Verification status", OAI `verification_enum_status`): 200 with the verification, its status the new one. A
 *   verification no longer pending is "soft deleted" (ERR 20404): 404. A canceled verification's code can no
 *   longer be checked, and the next send to its number starts a new verification with a new code (ERR 60203:
 *   "cancel the verification … then start a new verification").
 * - Bad parameters are 60200, HTTP 400, "The response `message` contains the name of the invalid parameter"
 *   (ERR 60200); SMS to a landline is 60205 (ERR 60205). HTTP Basic auth with the Account SID and auth token,
 *   else 20003, HTTP 401 (ERR 20003).
 * Error bodies are Twilio's `{ code, message, more_info, status }` (ERR pages' examples). Codes land in an
 * inbox the test can read, as the user would on their phone.
 */

/** What the pages leave open (see above); the tests run under each. */
export interface VerifyReadings {
  /** A send to a number with a pending verification: the same VE… SID back, or a new one (the old one canceled). */
  resendSid: 'same' | 'new';
}

export interface DeliveredCode {
  to: string;
  channel: string;
  code: string;
  at: number;
}

interface Verification {
  sid: string;
  to: string;
  channel: string;
  code: string;
  status: 'pending' | 'approved' | 'canceled' | 'max_attempts_reached' | 'expired';
  sends: number;
  checks: number;
  createdAt: number;
}

export interface FakeTwilioVerifyOptions {
  accountSid: string;
  authToken: string;
  serviceSid: string;
  /** Numbers that cannot receive SMS (60205 for Channel=sms). */
  landlines?: string[];
  now?: () => number;
  readings?: VerifyReadings;
}

const MAX_SENDS = 5;
const MAX_CHECKS = 5;
const TTL_MS = 10 * 60_000;

export class FakeTwilioVerify {
  readonly inbox: DeliveredCode[] = [];
  readonly requests: { path: string; form: Record<string, string>; authorized: boolean }[] = [];
  private readonly verifications: Verification[] = [];
  private server?: Server;
  baseUrl = '';

  constructor(private readonly options: FakeTwilioVerifyOptions) {}

  private now() {
    return (this.options.now ?? Date.now)();
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof TwilioError) send(res, err.status, err.body);
        else send(res, 500, { message: (err as Error).message });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The last code delivered to a number (what the user reads on their phone). */
  lastCode(to: string): string | undefined {
    return this.inbox.filter((m) => m.to === to).at(-1)?.code;
  }

  /** Ages every verification, e.g. to let codes expire. */
  expireAll(): void {
    for (const v of this.verifications) if (v.status === 'pending') v.status = 'expired';
  }

  private pendingFor(to: string): Verification | undefined {
    const v = this.verifications.find((x) => x.to === to && x.status === 'pending');
    if (v && this.now() - v.createdAt > TTL_MS) {
      v.status = 'expired';
      return undefined;
    }
    return v;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const expected = `Basic ${Buffer.from(`${this.options.accountSid}:${this.options.authToken}`).toString('base64')}`;
    const authorized = req.headers.authorization === expected;
    this.requests.push({ path, form, authorized });

    if (!authorized) throw new TwilioError(401, 20003, 'Authenticate');
    const match = /^\/v2\/Services\/([^/]+)\/(Verifications|VerificationCheck)(?:\/(VE[0-9a-f]{32}))?$/.exec(
      path,
    );
    if (req.method !== 'POST' || !match)
      throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
    if (match[1] !== this.options.serviceSid)
      throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      throw new TwilioError(400, 60200, 'Invalid parameter');
    if (match[3] !== undefined) {
      if (match[2] !== 'Verifications')
        throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
      this.update(res, match[3], form);
    } else if (match[2] === 'Verifications') this.startVerification(res, form);
    else this.check(res, form);
  }

  private startVerification(res: ServerResponse, form: Record<string, string>): void {
    const to = form.To ?? '';
    const channel = form.Channel ?? '';
    if (!/^\+[1-9]\d{6,14}$/.test(to)) throw new TwilioError(400, 60200, 'Invalid parameter `To`');
    if (!['sms', 'call', 'email', 'whatsapp', 'sna'].includes(channel))
      throw new TwilioError(400, 60200, 'Invalid parameter: Channel');
    if (channel === 'sms' && this.options.landlines?.includes(to))
      throw new TwilioError(400, 60205, 'SMS is not supported by landline phone number');

    let v = this.pendingFor(to);
    if (v) {
      if (v.sends >= MAX_SENDS) throw new TwilioError(429, 60203, 'Max send attempts reached');
      if (this.options.readings?.resendSid === 'new') {
        // The same code under a new SID; the superseded verification can no longer be checked.
        v.status = 'canceled';
        v = { ...v, sid: `VE${randomBytes(16).toString('hex')}`, status: 'pending' };
        this.verifications.push(v);
      }
      v.sends += 1;
      v.channel = channel;
    } else {
      v = {
        sid: `VE${randomBytes(16).toString('hex')}`,
        to,
        channel,
        code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
        status: 'pending',
        sends: 1,
        checks: 0,
        createdAt: this.now(),
      };
      this.verifications.push(v);
    }
    this.inbox.push({ to, channel, code: v.code, at: this.now() });
    send(res, 201, this.resource(v));
  }

  private update(res: ServerResponse, sid: string, form: Record<string, string>): void {
    if (form.Status !== 'canceled' && form.Status !== 'approved')
      throw new TwilioError(400, 60200, 'Invalid parameter: Status');
    const v = this.verifications.find((x) => x.sid === sid);
    if (!v || this.pendingFor(v.to) !== v)
      throw new TwilioError(
        404,
        20404,
        `The requested resource /Services/${this.options.serviceSid}/Verifications/${sid} was not found`,
      );
    v.status = form.Status;
    send(res, 200, this.resource(v));
  }

  /** How many checks a verification has taken (what Twilio's 5-check limit counts). */
  checksOf(sid: string): number {
    return this.verifications.find((x) => x.sid === sid)?.checks ?? 0;
  }

  /** The verification a send to this number would continue, if any (its SID and status). */
  pendingSid(to: string): string | undefined {
    return this.pendingFor(to)?.sid;
  }

  private check(res: ServerResponse, form: Record<string, string>): void {
    const code = form.Code ?? '';
    if (code === '') throw new TwilioError(400, 60200, 'Invalid parameter: Code');
    const bySid = this.verifications.find((x) => x.sid === form.VerificationSid);
    const v = form.VerificationSid
      ? bySid && this.pendingFor(bySid.to) === bySid
        ? bySid
        : undefined
      : form.To
        ? this.pendingFor(form.To)
        : undefined;
    if (!form.To && !form.VerificationSid) throw new TwilioError(400, 60200, 'Invalid parameter: To');
    if (!v)
      throw new TwilioError(
        404,
        20404,
        `The requested resource /Services/${this.options.serviceSid}/VerificationCheck was not found`,
      );
    if (v.checks >= MAX_CHECKS) {
      v.status = 'max_attempts_reached';
      throw new TwilioError(429, 60202, 'Max check attempts reached');
    }
    v.checks += 1;
    const valid = code === v.code;
    if (valid) v.status = 'approved';
    const { send_code_attempts: _sent, lookup: _lookup, ...check } = this.resource(v);
    send(res, 200, { ...check, valid });
  }

  private resource(v: Verification) {
    const date = new Date(v.createdAt).toISOString();
    return {
      sid: v.sid,
      service_sid: this.options.serviceSid,
      account_sid: this.options.accountSid,
      to: v.to,
      channel: v.channel,
      status: v.status,
      valid: v.status === 'approved',
      amount: null,
      payee: null,
      lookup: { carrier: null },
      send_code_attempts: Array.from({ length: v.sends }, () => ({ channel: v.channel, time: date })),
      date_created: date,
      date_updated: new Date(this.now()).toISOString(),
      url: `https://verify.twilio.com/v2/Services/${this.options.serviceSid}/Verifications/${v.sid}`,
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Twilio's error shape: `{ code, message, more_info, status }`. */
class TwilioError extends Error {
  readonly body: Record<string, unknown>;
  constructor(
    readonly status: number,
    code: number,
    message: string,
  ) {
    super(message);
    this.body = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  }
}
