import { readRateLimitHeaders, readRetryAfter } from './rate-limit-headers.js';
import type { ManagementRateLimiter, Route } from './rate-limiter.js';

/**
 * The `fetch` every SDK client of a process is given: each Management API request waits for the shared
 * limiter, reports what Auth0 answered, and a 429 is waited out and sent again here, so no caller sees one
 * unless Auth0 keeps refusing. The SDK's own retries are off (`maxRetries: 0`): they would retry out of the
 * limiter's sight. Anything outside `/api/v2/` (the token endpoint, an export download) passes straight through.
 */

export interface LimitedFetchOptions {
  limiter: ManagementRateLimiter;
  now: () => number;
  /** 429s one request waits out before the caller gets the 429 (default 8). */
  maxThrottled?: number;
  /** Each attempt's own deadline, counted from when it is sent, not while it waits its turn (default 30 s). */
  attemptTimeoutMs?: number;
}

const API_PATH = '/api/v2/';

export function limitFetch(inner: typeof fetch, options: LimitedFetchOptions): typeof fetch {
  const maxThrottled = options.maxThrottled ?? 8;
  const timeoutMs = options.attemptTimeoutMs ?? 30_000;
  return async function limitedFetch(input, init) {
    const route = routeOf(input, init);
    if (!route) return inner(input, init);
    const signal = init?.signal ?? undefined;
    for (let throttled = 0; ; ) {
      const ticket = await options.limiter.acquire(route, signal);
      let response: Response;
      try {
        const attempt = AbortSignal.timeout(timeoutMs);
        response = await inner(input, {
          ...init,
          signal: signal ? AbortSignal.any([signal, attempt]) : attempt,
        });
      } catch (error) {
        options.limiter.settle(ticket, 'failed');
        throw error;
      }
      const state = readRateLimitHeaders(response.headers);
      if (response.status !== 429) {
        options.limiter.settle(ticket, response.status < 500 ? 'ok' : 'failed', state);
        return response;
      }
      options.limiter.settle(ticket, 'throttled', state, readRetryAfter(response.headers, options.now()));
      throttled += 1;
      if (throttled >= maxThrottled || !replayable(input, init)) return response;
      await response.body?.cancel().catch(() => undefined);
    }
  };
}

/** The Management API route of a request, or undefined for anything else. */
function routeOf(input: RequestInfo | URL, init: RequestInit | undefined): Route | undefined {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const at = pathname.indexOf(API_PATH);
  if (at === -1) return undefined;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  return { method, path: pathname.slice(at + API_PATH.length - 1) };
}

/** The SDK sends JSON strings (or nothing): those can be sent again; a stream or a Request's body cannot. */
function replayable(input: RequestInfo | URL, init: RequestInit | undefined): boolean {
  if (input instanceof Request && input.body !== null) return false;
  const body = init?.body;
  return body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams;
}
