import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback Twilio Verify v2, following the documented contract of the two endpoints callerpop uses:
 * - POST /v2/Services/{ServiceSid}/Verifications (form: To, Channel = sms | call | …): 201 with a
 *   verification (status `pending`); a new request to a number with a pending verification re-sends the same
 *   code; the 6th send within the verification's 10 minutes is refused with 60203 (429).
 * - POST /v2/Services/{ServiceSid}/VerificationCheck (form: To or VerificationSid, Code): 200 with status
 *   `approved` (valid: true) or `pending` (valid: false); the 6th check of one verification is refused with
 *   60202 (429); no pending verification (never sent, expired, approved, canceled) is 20404 (404).
 * Basic auth with the Account SID and auth token (20003, 401, otherwise); bad parameters are 60200 (400);
 * SMS to a number listed as a landline is 60205. Codes land in an inbox the test can read.
 */

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
    const match = /^\/v2\/Services\/([^/]+)\/(Verifications|VerificationCheck)$/.exec(path);
    if (req.method !== 'POST' || !match)
      throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
    if (match[1] !== this.options.serviceSid)
      throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      throw new TwilioError(400, 60200, 'Invalid parameter');
    if (match[2] === 'Verifications') this.startVerification(res, form);
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

  private check(res: ServerResponse, form: Record<string, string>): void {
    const code = form.Code ?? '';
    if (code === '') throw new TwilioError(400, 60200, 'Invalid parameter: Code');
    const v = form.VerificationSid
      ? this.verifications.find((x) => x.sid === form.VerificationSid && x.status === 'pending')
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
