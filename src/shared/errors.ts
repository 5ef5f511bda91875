import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeError } from './logger.js';

/** The one error shape every failure answers with: `{ error: { code, message, requestId } }`. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

/** Throw from anywhere in a request: becomes the error shape with this status, code and message. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, code = 'bad_request') => new ApiError(400, code, message);
export const unauthorized = (message = 'Authentication required') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'Forbidden') => new ApiError(403, 'forbidden', message);
export const notFound = (message = 'Not found') => new ApiError(404, 'not_found', message);

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

/** SQLite's codes for a database that cannot be used right now (as opposed to a statement that is wrong). */
const UNAVAILABLE_SQLITE =
  /^SQLITE_(BUSY|LOCKED|FULL|READONLY|IOERR|CANTOPEN|NOMEM|INTERRUPT|PROTOCOL|NOTADB|CORRUPT)/;
/** @libsql/client's codes for a remote database that did not answer (hrana.js mapHranaErrorCode). */
const UNAVAILABLE_LIBSQL = new Set([
  'SERVER_ERROR',
  'HRANA_PROTO_ERROR',
  'HRANA_CLOSED_ERROR',
  'HRANA_WEBSOCKET_ERROR',
  'CLIENT_CLOSED',
  'TRANSACTION_CLOSED',
  'INTERNAL_ERROR',
]);
const UNAVAILABLE_NETWORK = /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_)/;

/**
 * The database (or the way to it) failed, not the statement: busy, full, read-only, unreachable. Work that
 * fails this way is worth retrying later; work that fails any other way fails for what it is.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (UNAVAILABLE_SQLITE.test(code) || UNAVAILABLE_LIBSQL.has(code) || UNAVAILABLE_NETWORK.test(code))
        return true;
    }
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    if (message === 'fetch failed' || message === 'Network connection lost.') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function errorBody(c: Context, code: string, message: string): ErrorBody {
  return { error: { code, message, requestId: c.get('requestId') ?? 'unknown' } };
}

/** Hono's onError: known errors keep their status and message; anything else is a 500 that leaks nothing. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return c.json(errorBody(c, err.code, err.message), err.status);
  }
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    const status = res.status as ContentfulStatusCode;
    const code = CODES[status] ?? 'error';
    return c.json(errorBody(c, code, err.message || code.replaceAll('_', ' ')), status);
  }
  if (isDatabaseUnavailable(err)) {
    // Transient (busy, full, unreachable): the sender (an Action, a Log Stream, an agent's browser) retries;
    // nothing was written.
    c.get('logger')?.warn('database unavailable', { error: describeError(err) });
    c.header('Retry-After', '1');
    return c.json(errorBody(c, 'unavailable', 'The database is unavailable; retry shortly'), 503);
  }
  // The message may quote query parameters (phone numbers): log it masked, never the stack's raw text.
  c.get('logger')?.error('unhandled error', { error: describeError(err) });
  return c.json(errorBody(c, 'internal', 'Internal error'), 500);
}
