import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { validateRequest, validateRequestWithBody } from 'twilio/lib/webhooks/webhooks';
import type { Config } from '../config.js';
import type { AppEnv } from '../deps.js';
import { ApiError, forbidden } from '../shared/errors.js';

/**
 * Twilio webhook verification, on the raw body before anything is parsed away: Twilio's own algorithm
 * (HMAC-SHA1 of PUBLIC_BASE_URL + path + query and every received parameter, repeated ones included;
 * the URL with the default port added or removed; constant-time comparison) from the twilio package, and
 * the AccountSid of the configured account. JSON webhooks are signed over the URL and carry the body's
 * SHA-256 in the `bodySHA256` query parameter instead.
 */

/** Twilio sends a few KiB at most; anything larger is not Twilio. */
export const TWILIO_MAX_BODY = 64 * 1024;

/** Form fields as received: a name sent more than once keeps every value, in order. */
export type TwilioParams = Record<string, string | string[]>;

export interface VerifiedTwilioRequest {
  /** Form fields (empty for a JSON webhook). */
  params: TwilioParams;
  /** The JSON body of a `bodySHA256` webhook; undefined for forms. */
  json: unknown;
  kind: 'form' | 'json' | 'empty';
}

export type TwilioEnv = { Variables: AppEnv['Variables'] & { twilioRequest: VerifiedTwilioRequest } };

const FORM = 'application/x-www-form-urlencoded';
const utf8 = new TextDecoder();
const JSON_TYPE = 'application/json';

/** The first value of a field, or undefined. */
export function twilioParam(params: TwilioParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What the signature middleware verified; for routes mounted behind it (including other files'). */
export function verifiedTwilioRequest(c: Context): VerifiedTwilioRequest {
  const request = (c as unknown as Context<TwilioEnv>).get('twilioRequest');
  if (!request) throw new Error('twilioSignature middleware is not in front of this route');
  return request;
}

/** One pass over the body; a null-prototype object so no field name can touch Object.prototype. */
export function parseTwilioForm(body: string): TwilioParams {
  const params: TwilioParams = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = params[name];
    if (seen === undefined) params[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else params[name] = [seen, value];
  }
  return params;
}

/** Path and query exactly as requested (no decoding), so the signed URL is the one Twilio signed. */
function pathAndQuery(url: string): string {
  const afterScheme = url.indexOf('//');
  const slash = url.indexOf('/', afterScheme === -1 ? 0 : afterScheme + 2);
  if (slash === -1) return '/';
  const hash = url.indexOf('#', slash);
  return hash === -1 ? url.slice(slash) : url.slice(slash, hash);
}

function mediaType(header: string | undefined): string {
  if (!header) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

function jsonAccountSid(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return undefined;
  const record = json as Record<string, unknown>;
  return record.AccountSid ?? record.accountSid ?? record.account_sid;
}

const payloadTooLarge = () => new ApiError(413, 'payload_too_large', 'Request body is larger than 64 KiB');
export const unsupportedMediaType = () =>
  new ApiError(415, 'unsupported_media_type', `Twilio webhooks are sent as ${FORM}`);

type Verdict = { ok: true; request: VerifiedTwilioRequest } | { ok: false; reason: string };

function verify(config: Config, signature: string, url: string, type: string, body: string): Verdict {
  const token = config.TWILIO_AUTH_TOKEN;
  if (type === JSON_TYPE) {
    if (!url.includes('bodySHA256=')) return { ok: false, reason: 'json_without_body_hash' };
    if (!validateRequestWithBody(token, signature, url, body)) return { ok: false, reason: 'signature' };
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { ok: false, reason: 'json_unreadable' };
    }
    if (jsonAccountSid(json) !== config.TWILIO_ACCOUNT_SID) return { ok: false, reason: 'account' };
    return { ok: true, request: { params: Object.create(null), json, kind: 'json' } };
  }
  const params = type === FORM ? parseTwilioForm(body) : (Object.create(null) as TwilioParams);
  if (!validateRequest(token, signature, url, params)) return { ok: false, reason: 'signature' };
  if (params.AccountSid !== config.TWILIO_ACCOUNT_SID) return { ok: false, reason: 'account' };
  return { ok: true, request: { params, json: undefined, kind: type === FORM ? 'form' : 'empty' } };
}

/**
 * Rejects anything Twilio did not sign for this account: 413 over 64 KiB, 415 for a body that is
 * neither a form nor JSON, 403 (no detail) for a missing or wrong signature or another account.
 */
export function twilioSignature(config: Config): MiddlewareHandler<TwilioEnv> {
  const limit = bodyLimit({
    maxSize: TWILIO_MAX_BODY,
    onError: () => {
      throw payloadTooLarge();
    },
  });
  return async function verifyTwilioSignature(c, next) {
    const type = mediaType(c.req.header('content-type'));
    if (type !== FORM && type !== JSON_TYPE && type !== '') throw unsupportedMediaType();
    const signature = c.req.header('x-twilio-signature');
    const check = async () => {
      // Bytes, then UTF-8: workerd warns on every .text() of a form body (forms are ASCII-safe anyway).
      const body = utf8.decode(await c.req.arrayBuffer());
      if (type === '' && body !== '') throw unsupportedMediaType();
      if (!signature) {
        c.get('logger')?.warn('twilio webhook rejected', { reason: 'missing_signature', path: c.req.path });
        throw forbidden();
      }
      const url = config.PUBLIC_BASE_URL + pathAndQuery(c.req.url);
      const verdict = verify(config, signature, url, type, body);
      if (!verdict.ok) {
        c.get('logger')?.warn('twilio webhook rejected', { reason: verdict.reason, path: c.req.path });
        throw forbidden();
      }
      c.set('twilioRequest', verdict.request);
      await next();
    };
    // A declared length (what Twilio always sends) is checked here and the body read in one piece: Hono's
    // bodyLimit asks for the request's body stream, which on Node turns the server's light request into
    // a full fetch Request with a web stream and an AbortController (measured: ~50 µs a webhook, a
    // quarter of its CPU). The HTTP parser never delivers more bytes than the declared length. A body
    // without one (chunked) still goes through bodyLimit, which counts the bytes as they arrive.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(length, 10) > TWILIO_MAX_BODY) throw payloadTooLarge();
      return check();
    }
    return limit(c, check);
  };
}
