/**
 * A loopback stand-in for what `npm run connect -- twilio` uses of Twilio: IncomingPhoneNumbers, Messaging
 * Services and their PhoneNumbers, and Verify Services, driven by the real `twilio` SDK over real HTTP. The
 * SDK has no base-URL option, so the client under test is given an httpClient that sends each of Twilio's
 * hosts here (`hosts`); the paths keep their API version prefix (/2010-04-01, messaging /v1, verify /v2).
 *
 * Citations: [OAI] is twilio/twilio-oai at d50069b4 (`spec/json/twilio_api_v2010.json`,
 * `twilio_messaging_v1.json`, `twilio_verify_v2.json`), whose descriptions are the API reference pages'
 * text; the page is named beside it. What the SDK sends (form bodies, Basic auth, list pages) is
 * /work/research/twilio-contract.md §0.
 * - Basic auth with the Account SID and auth token, else 401 code 20003 (/docs/errors/20003); another
 *   account's path is 20404 (/docs/errors/20404).
 * - Errors are `{ code, message, more_info, status }` (every /docs/errors page's example).
 * - Updates answer 200 with the resource, creates 201, deletes 204 ([OAI] each operation's responses).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Fields = Record<string, string | number | boolean | null>;
export interface NumberSeed {
  phone_number: string;
  voice_url?: string | null;
  voice_method?: string;
  voice_fallback_url?: string | null;
  sms_url?: string | null;
  status_callback?: string | null;
  voice_application_sid?: string | null;
  trunk_sid?: string | null;
  sms_application_sid?: string | null;
}
export interface ServiceSeed {
  friendly_name: string;
  inbound_request_url?: string | null;
  /** [OAI] messaging.v1.service.use_inbound_webhook_on_number; the API's default is not stated. */
  use_inbound_webhook_on_number: boolean;
  numbers: string[];
}
export interface TwilioRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  status: number;
}

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const API = 'https://api.twilio.com';
const MESSAGING = 'https://messaging.twilio.com';

/** The number resource's URL fields (IncomingPhoneNumber resource, "Update an IncomingPhoneNumber resource"). */
const NUMBER_PARAMS: Record<string, string> = {
  VoiceUrl: 'voice_url',
  VoiceMethod: 'voice_method',
  VoiceFallbackUrl: 'voice_fallback_url',
  VoiceFallbackMethod: 'voice_fallback_method',
  SmsUrl: 'sms_url',
  SmsMethod: 'sms_method',
  StatusCallback: 'status_callback',
  StatusCallbackMethod: 'status_callback_method',
};
/** Messaging Service resource, "Update a Service resource". */
const SERVICE_PARAMS: Record<string, string> = {
  InboundRequestUrl: 'inbound_request_url',
  InboundMethod: 'inbound_method',
  UseInboundWebhookOnNumber: 'use_inbound_webhook_on_number',
};

export async function startFakeTwilioNumbers(options: {
  accountSid: string;
  authToken: string;
  numbers?: NumberSeed[];
  messagingServices?: ServiceSeed[];
  verifyServices?: { friendly_name: string }[];
}) {
  const account = options.accountSid;
  const numbers: Fields[] = (options.numbers ?? []).map((n) => ({
    sid: sid('PN'),
    account_sid: account,
    friendly_name: n.phone_number,
    voice_url: null,
    voice_method: 'POST',
    voice_fallback_url: null,
    voice_fallback_method: 'POST',
    sms_url: null,
    sms_method: 'POST',
    status_callback: null,
    status_callback_method: 'POST',
    voice_application_sid: null,
    trunk_sid: null,
    sms_application_sid: null,
    ...n,
  }));
  const services = (options.messagingServices ?? []).map(({ numbers: members, ...s }) => ({
    service: {
      sid: sid('MG'),
      account_sid: account,
      inbound_method: 'POST',
      inbound_request_url: null,
      ...s,
    } as Fields,
    members,
  }));
  let verify: Fields[] = (options.verifyServices ?? []).map((v) => ({
    sid: sid('VA'),
    code_length: 6,
    ...v,
  }));
  const requests: TwilioRequest[] = [];
  const faults: { method: string; path: RegExp; status: number; code: number; message: string }[] = [];

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, code: number, message: string) =>
    send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
  /** Messaging v1 and Verify v2 list pages: the items under `meta.key` ([OAI] List*Response). */
  const v1Page = (key: string, items: unknown[], url: string) => ({
    [key]: items,
    meta: {
      key,
      page: 0,
      page_size: 50,
      first_page_url: url,
      previous_page_url: null,
      next_page_url: null,
      url,
    },
  });

  function handle(req: IncomingMessage, res: ServerResponse, entry: TwilioRequest, raw: string) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = Object.fromEntries(new URLSearchParams(req.method === 'GET' ? url.search : raw));
    entry.params = params;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, password] = Buffer.from(basic ?? '', 'base64')
      .toString('utf8')
      .split(':');
    if (user !== account || password !== options.authToken)
      return fail(res, 401, 20003, 'Authentication Error - invalid username');
    const fault = faults.find((f) => f.method === req.method && f.path.test(url.pathname));
    if (fault) {
      faults.splice(faults.indexOf(fault), 1);
      return fail(res, fault.status, fault.code, fault.message);
    }
    const p = url.pathname;
    const accountPath = /^\/2010-04-01\/Accounts\/([^/]+)\/IncomingPhoneNumbers(?:\/([^/]+))?\.json$/.exec(p);
    if (accountPath) {
      if (accountPath[1] !== account) return fail(res, 404, 20404, 'The requested resource was not found');
      const pn = accountPath[2];
      if (!pn && req.method === 'GET') {
        // IncomingPhoneNumber resource, "Read": `PhoneNumber` "You can specify partial numbers and use '*' as
        // a wildcard for any digit" → { incoming_phone_numbers, page, page_size, next_page_uri, … }.
        const pattern = params.PhoneNumber;
        const re = pattern ? new RegExp(`${pattern.replace(/[+]/g, '\\+').replace(/\*/g, '\\d')}`) : /.*/;
        const found = numbers.filter((n) => re.test(String(n.phone_number)));
        return send(res, 200, {
          incoming_phone_numbers: found,
          page: 0,
          page_size: 50,
          start: 0,
          end: Math.max(0, found.length - 1),
          uri: p,
          first_page_uri: p,
          next_page_uri: null,
          previous_page_uri: null,
        });
      }
      const number = numbers.find((n) => n.sid === pn);
      if (!number) return fail(res, 404, 20404, 'The requested resource was not found');
      if (req.method === 'GET') return send(res, 200, number);
      if (req.method === 'POST') {
        for (const [param, field] of Object.entries(NUMBER_PARAMS)) {
          const value = params[param];
          if (value === undefined) continue;
          // Error 21502 "Invalid callback url": a URL field must be an absolute http(s) URL.
          if (param.endsWith('Url') || param === 'StatusCallback')
            if (value !== '' && !/^https?:\/\/[^\s]+$/.test(value))
              return fail(res, 400, 21502, `Invalid callback url: ${param}`);
          number[field] = value === '' ? null : value;
        }
        return send(res, 200, number);
      }
    }
    if (p === '/v1/Services' && req.method === 'GET')
      return send(
        res,
        200,
        v1Page(
          'services',
          services.map((s) => s.service),
          `${MESSAGING}${p}`,
        ),
      );
    const service = /^\/v1\/Services\/([^/]+)(\/PhoneNumbers)?$/.exec(p);
    if (service) {
      const found = services.find((s) => s.service.sid === service[1]);
      if (!found) return fail(res, 404, 20404, 'The requested resource was not found');
      if (service[2] && req.method === 'GET') {
        // Messaging PhoneNumber resource, "Read": { phone_numbers: [{ sid (PN…), phone_number, … }], meta }.
        const members = found.members.map((e164) => {
          const number = numbers.find((n) => n.phone_number === e164);
          return {
            sid: number?.sid ?? sid('PN'),
            service_sid: found.service.sid,
            account_sid: account,
            phone_number: e164,
          };
        });
        return send(res, 200, v1Page('phone_numbers', members, `${MESSAGING}${p}`));
      }
      if (req.method === 'GET') return send(res, 200, found.service);
      if (req.method === 'POST') {
        for (const [param, field] of Object.entries(SERVICE_PARAMS)) {
          const value = params[param];
          if (value === undefined) continue;
          if (param === 'InboundRequestUrl' && value !== '' && !/^https?:\/\//.test(value))
            return fail(res, 400, 21502, 'Invalid callback url: InboundRequestUrl');
          found.service[field] = param.startsWith('Use') ? value === 'true' : value === '' ? null : value;
        }
        return send(res, 200, found.service);
      }
    }
    if (p === '/v2/Services' && req.method === 'GET')
      return send(res, 200, v1Page('services', verify, `https://verify.twilio.com${p}`));
    if (p === '/v2/Services' && req.method === 'POST') {
      // Verify Service resource, "Create": FriendlyName required; "up to 30 characters" (the resource's
      // friendly_name; the request's description says 32, /docs/errors/60200 says 30: the stricter is played).
      const name = params.FriendlyName ?? '';
      if (name === '' || name.length > 30) return fail(res, 400, 60200, 'Invalid parameter: FriendlyName');
      const created = {
        sid: sid('VA'),
        account_sid: account,
        friendly_name: name,
        code_length: Number(params.CodeLength ?? 6),
      };
      verify.push(created);
      return send(res, 201, created);
    }
    const verifyService = /^\/v2\/Services\/([^/]+)$/.exec(p);
    if (verifyService) {
      const found = verify.find((v) => v.sid === verifyService[1]);
      if (!found) return fail(res, 404, 20404, 'The requested resource was not found');
      if (req.method === 'GET') return send(res, 200, found);
      if (req.method === 'DELETE') {
        verify = verify.filter((v) => v !== found);
        return send(res, 204);
      }
    }
    return fail(res, 404, 20404, 'The requested resource was not found');
  }

  const server = createServer((req, res) => {
    const entry: TwilioRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      params: {},
      status: 0,
    };
    requests.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => handle(req, res, entry, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    /** Where the client under test sends each of Twilio's hosts. */
    hosts: { [API]: url, [MESSAGING]: url, 'https://verify.twilio.com': url },
    requests,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    number: (e164: string) => numbers.find((n) => n.phone_number === e164),
    service: (name: string) => services.find((s) => s.service.friendly_name === name)?.service,
    verifyServices: () => verify,
    /** Twilio changes the number behind connect's back (another tool, the Console). */
    edit(e164: string, fields: Fields) {
      Object.assign(numbers.find((n) => n.phone_number === e164) ?? {}, fields);
    },
    failNext(method: string, path: RegExp, status: number, code: number, message: string) {
      faults.push({ method, path, status, code, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeTwilioNumbers = Awaited<ReturnType<typeof startFakeTwilioNumbers>>;
