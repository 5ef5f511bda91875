/**
 * A loopback stand-in for Twilio's REST API: the Messages and Calls endpoints, as Twilio documents them.
 *
 *   const twilio = await startFakeTwilio({ accountSid: TEST_ENV.TWILIO_ACCOUNT_SID, authToken: TEST_ENV.TWILIO_AUTH_TOKEN });
 *   const ctx = await createTestContext({
 *     env: { TWILIO_API_BASE_URL: twilio.url, TWILIO_FROM_NUMBER: '+15005550006' },
 *     deps: { twilio: createTwilioRest({ config: …, fetch }) },   // see src/auth0-feed/otp-relay.test.ts
 *   });
 *   … twilio.messages[0].to / .body / .from / .messagingServiceSid; twilio.calls[0].twiml
 *   twilio.failNext(2, { status: 503 });                          // the next two requests fail
 *   twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
 *   await twilio.close();
 *
 * Every behaviour follows a page of Twilio's (twilio.com; the same text is in Twilio's OpenAPI spec,
 * twilio/twilio-oai `spec/json/twilio_api_v2010.json`):
 * - HTTP Basic auth with the Account SID and auth token, else 401 with code 20003
 *   (/docs/usage/requests-to-twilio, "Authenticate with HTTP"; /docs/errors/20003); the account in the path
 *   must be the authenticated one, else 20404 (/docs/errors/20404).
 * - Form-encoded POST bodies (/docs/usage/requests-to-twilio); `To` required (21604) and E.164 (21211).
 * - Messages (/docs/messaging/api/message-resource, "Create a Message resource"): a sender, `From` or
 *   `MessagingServiceSid` (21603, 21606), and a `Body` (21602); 201 with the Message resource. "When you send a
 *   message with a Messaging Service, Twilio immediately sets the message's status to `accepted`"
 *   (/docs/messaging/services), else `queued`; numbers such as `num_segments` come back as strings.
 * - Calls (/docs/voice/api/call-resource, "Create a Call resource"): `From` and one of `Twiml` or `Url`
 *   (21205); 201 with the Call resource, status `queued`.
 * Error bodies are Twilio's JSON: `{ code, message, more_info, status }` (every /docs/errors page's example;
 * a 429 is code 20429, /docs/errors/20429).
 * Every request that reaches an endpoint is recorded in `requests` (accepted or not); accepted ones also in
 * `messages` / `calls`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTwilioRequest {
  resource: 'Messages' | 'Calls' | 'other';
  path: string;
  /** The decoded Basic credentials, or null when absent/malformed. */
  auth: { user: string; password: string } | null;
  params: Record<string, string>;
  to: string | undefined;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string | undefined;
  twiml: string | undefined;
  /** What the fake answered. */
  status: number;
}

export interface FakeMessage {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string | undefined;
  url: string | undefined;
}

/** A failure to inject: an HTTP status and, for Twilio-style errors, the Twilio code and message. */
export interface FakeFailure {
  status: number;
  code?: number;
  message?: string;
  /** Answer with this non-JSON body instead (a proxy's error page). */
  rawBody?: string;
}

export interface FakeTwilio {
  /** Base URL to use as TWILIO_API_BASE_URL. */
  url: string;
  requests: FakeTwilioRequest[];
  messages: FakeMessage[];
  calls: FakeCall[];
  /** The next `count` requests to Messages or Calls fail this way (after auth is checked). */
  failNext(count: number, failure: FakeFailure): void;
  /** Forget recorded requests and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{1,14}$/;
const PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/;

const newSid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

function twilioError(res: ServerResponse, status: number, code: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? null : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeTwilio(options: {
  accountSid: string;
  authToken: string;
}): Promise<FakeTwilio> {
  const requests: FakeTwilioRequest[] = [];
  const messages: FakeMessage[] = [];
  const calls: FakeCall[] = [];
  let pending: FakeFailure[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const match = PATH.exec(path);
    const raw = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(raw));
    const auth = parseBasic(req.headers.authorization);
    const record: FakeTwilioRequest = {
      resource: (match?.[2] as 'Messages' | 'Calls' | undefined) ?? 'other',
      path,
      auth,
      params,
      to: params.To,
      from: params.From,
      messagingServiceSid: params.MessagingServiceSid,
      body: params.Body,
      twiml: params.Twiml,
      status: 0,
    };
    requests.push(record);
    const fail = (status: number, code: number, message: string) => {
      record.status = status;
      twilioError(res, status, code, message);
    };

    if (req.method !== 'POST' || !match) return fail(404, 20404, 'The requested resource was not found');
    if (!auth || auth.user !== options.accountSid || auth.password !== options.authToken) {
      res.setHeader('www-authenticate', 'Basic realm="Twilio API"');
      return fail(401, 20003, 'Authenticate');
    }
    if (match[1] !== auth.user) return fail(404, 20404, `The requested resource ${path} was not found`);

    const injected = pending.shift();
    if (injected) {
      record.status = injected.status;
      if (injected.rawBody !== undefined) {
        res.writeHead(injected.status, { 'content-type': 'text/html' });
        res.end(injected.rawBody);
        return;
      }
      return twilioError(
        res,
        injected.status,
        injected.code ?? (injected.status === 429 ? 20429 : 20500),
        injected.message ?? (injected.status === 429 ? 'Too Many Requests' : 'Internal Server Error'),
      );
    }

    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return fail(400, 20001, 'Content-Type must be application/x-www-form-urlencoded');
    }
    const to = params.To;
    if (!to) return fail(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return fail(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const now = new Date().toUTCString();
    const common = {
      account_sid: options.accountSid,
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      direction: 'outbound-api',
      to,
      price: null,
      price_unit: 'USD',
    };

    if (match[2] === 'Messages') {
      if (!params.From && !params.MessagingServiceSid)
        return fail(400, 21603, "A 'From' phone number is required.");
      if (params.MessagingServiceSid && !/^MG[0-9a-f]{32}$/.test(params.MessagingServiceSid)) {
        return fail(400, 21606, 'The MessagingServiceSid is invalid.');
      }
      if (!params.Body) return fail(400, 21602, 'Message body is required.');
      const sid = newSid('SM');
      messages.push({
        sid,
        to,
        from: params.From,
        messagingServiceSid: params.MessagingServiceSid,
        body: params.Body,
      });
      record.status = 201;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...common,
          sid,
          body: params.Body,
          from: params.From ?? null,
          messaging_service_sid: params.MessagingServiceSid ?? null,
          status: params.MessagingServiceSid ? 'accepted' : 'queued',
          num_segments: '1',
          num_media: '0',
          error_code: null,
          error_message: null,
          date_sent: null,
          uri: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}.json`,
        }),
      );
      return;
    }

    if (!params.From) return fail(400, 21603, "A 'From' phone number is required.");
    if (!params.Twiml && !params.Url) return fail(400, 21205, 'Url parameter is required.');
    const sid = newSid('CA');
    calls.push({ sid, to, from: params.From, twiml: params.Twiml, url: params.Url });
    record.status = 201;
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ...common,
        sid,
        from: params.From,
        status: 'queued',
        parent_call_sid: null,
        duration: null,
        start_time: null,
        end_time: null,
        uri: `/2010-04-01/Accounts/${options.accountSid}/Calls/${sid}.json`,
      }),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messages,
    calls,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) pending.push(failure);
    },
    reset() {
      requests.length = 0;
      messages.length = 0;
      calls.length = 0;
      pending = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
