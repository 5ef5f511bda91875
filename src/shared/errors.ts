import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeError } from './logger.js';
import { isDatabaseUnavailable } from './retry.js';

/**
 * Every code callerpop answers an error with: a closed set, so a client can switch on it and a new one is a
 * deliberate change here (docs/api.md lists them).
 */
export const ERROR_CODES = [
  // Generic, by status.
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
  'error',
  // Specific bad requests.
  'malformed_json',
  'phone_required',
  'invalid_phone',
  'invalid_region',
  'invalid_event',
  'unknown_event_type',
  'invalid_ids',
  'invalid_log_id',
  'invalid_pages',
  'invalid_query',
  // State.
  'in_progress',
  'conflict',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error shape every failure answers with: `{ error: { code, message, requestId } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string };
}

/** Throw from anywhere in a request: becomes the error shape with this status, code and message. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(status, { message });
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, code: ErrorCode = 'bad_request') =>
  new ApiError(400, code, message);
export const unauthorized = (message = 'Authentication required') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'Forbidden') => new ApiError(403, 'forbidden', message);
export const notFound = (message = 'Not found') => new ApiError(404, 'not_found', message);

const CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

export function errorBody(c: Context, code: ErrorCode, message: string): ErrorBody {
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
