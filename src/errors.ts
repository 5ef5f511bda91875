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

/** SQLITE_BUSY (another writer holds the lock past busy_timeout), however deep the driver wrapped it. */
function isDatabaseBusy(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
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
  if (isDatabaseBusy(err)) {
    // Transient: the sender (an Action, a Log Stream, an agent's browser) retries; nothing was written.
    c.get('logger')?.warn('database busy', { error: describeError(err) });
    c.header('Retry-After', '1');
    return c.json(errorBody(c, 'unavailable', 'The database is busy; retry shortly'), 503);
  }
  // The message may quote query parameters (phone numbers): log it masked, never the stack's raw text.
  c.get('logger')?.error('unhandled error', { error: describeError(err) });
  return c.json(errorBody(c, 'internal', 'Internal error'), 500);
}
