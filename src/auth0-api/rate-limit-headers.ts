/**
 * Auth0's rate-limit headers, as rate-limit-use-cases.mdx ("Predict when requests to a tenant will be rate
 * limited") defines them:
 * - `x-ratelimit-limit`: "Maximum number of requests available";
 * - `x-ratelimit-remaining`: "Number of remaining requests available until the bucket is refilled with
 *   additional requests";
 * - `x-ratelimit-reset`: "UNIX timestamp, in seconds, of the expected time when additional requests will be
 *   added to the bucket" — when the next token(s) arrive ("1 new request will be added at that time", the
 *   page's example), not when the bucket is full again.
 */
export interface RateLimitState {
  limit?: number;
  remaining?: number;
  /** Epoch ms at which more requests are expected in the bucket. */
  resetAt?: number;
}

export function readRateLimitHeaders(headers: Headers | undefined): RateLimitState | undefined {
  if (!headers) return undefined;
  const num = (name: string) => {
    const raw = headers.get(name);
    if (raw === null || raw.trim() === '') return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const limit = num('x-ratelimit-limit');
  const remaining = num('x-ratelimit-remaining');
  const reset = num('x-ratelimit-reset');
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined;
  return { limit, remaining, resetAt: reset === undefined ? undefined : reset * 1000 };
}

/**
 * `Retry-After` (seconds or an HTTP date) in ms from now. Auth0 documents it for custom rate-limit policies
 * (custom-rate-limit-policies.mdx), not for the Management API, whose 429 points at the X-RateLimit headers
 * ("Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
 * management-api-oas.json): honoured when present, never required.
 */
export function readRetryAfter(headers: Headers | undefined, now: number): number | undefined {
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
