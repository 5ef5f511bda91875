/**
 * The Management API rate limits Auth0 documents for each plan, and which bucket a request spends.
 * Pages (auth0/docs-v2, under main/docs/troubleshoot/customer-support/operational-policies/):
 * - rate-limit-policy.mdx, "Rate limit algorithm": a token bucket; burst = bucket size; sustained = refill
 *   rate; per-second rates refill "by milliseconds", per-minute rates "on a second basis".
 * - rate-limit-policy/rate-limit-use-cases.mdx, "Examples of how rate limits are enforced": the same limits
 *   as a "fixed window" refilled at the top of each second or minute. The two pages disagree; see
 *   `estimateDurationMs` for what each reading costs.
 * - rate-limit-policy.mdx, "Tenant request limits order": the API's global limit, then the endpoint's.
 */

export const AUTH0_PLANS = [
  'free',
  'essentials',
  'professional',
  'enterprise',
  'enterprise-non-production',
] as const;
export type Auth0Plan = (typeof AUTH0_PLANS)[number];

/**
 * Unset AUTH0_PLAN paces as Free: its 2 requests/s is the lowest documented rate for the endpoint the
 * backfill spends most on (authentication-methods: Free 2/s, Essentials/Professional 150/min = 2.5/s,
 * Enterprise non-production 2/s, production 16/s), so an unconfigured tenant is never paced above its plan
 * there. The one higher figure, Read Logs on Essentials/Professional (100/min), is kept by the headers.
 */
export const DEFAULT_AUTH0_PLAN: Auth0Plan = 'free';

export interface BucketLimit {
  /** Names the bucket; requests that name the same bucket spend the same tokens. */
  id: string;
  /** As Auth0's table names it. */
  name: string;
  /** Bucket size ("Burst Request Limit"). */
  burst: number;
  /** "Sustained Request Limit": `sustained` requests per `per`. */
  sustained: number;
  per: 'second' | 'minute';
}

const bucket = (id: string, name: string, burst: number, sustained: number, per: BucketLimit['per']) =>
  ({ id, name, burst, sustained, per }) as const satisfies BucketLimit;

/** rate-limit-configurations/free-public.mdx, accordion "Management API": "Management | 2 | 2/second". */
const FREE = bucket('management', 'Management API (Free)', 2, 2, 'second');

/** rate-limit-configurations/enterprise-public.mdx, "## Management API": "Production | 50 | 16/second". */
const ENTERPRISE = bucket('management', 'Management API (Enterprise production)', 50, 16, 'second');

/** Same page and table: "Non-production | 10 | 2/second". */
const ENTERPRISE_NON_PRODUCTION = bucket(
  'management',
  'Management API (Enterprise non-production)',
  10,
  2,
  'second',
);

/**
 * rate-limit-configurations/essentials-professional-b2b.mdx, accordion "Management API" (the page has no
 * global row for these plans: every endpoint spends its own row's bucket or "All other Endpoints Combined").
 */
const PAID = {
  readUsers: bucket('read-users', 'Read Users', 40, 500, 'minute'),
  writeUsers: bucket('write-users', 'Write Users (POST, PATCH)', 20, 200, 'minute'),
  deleteUsers: bucket('delete-users', 'Write Users (DELETE)', 20, 200, 'minute'),
  readLogs: bucket('read-logs', 'Read Logs', 10, 100, 'minute'),
  readClients: bucket('read-clients', 'Read Clients', 5, 100, 'minute'),
  readConnections: bucket('read-connections', 'Read Connections', 5, 50, 'minute'),
  other: bucket('other', 'All other Endpoints Combined', 10, 150, 'minute'),
};

/**
 * The Essentials/Professional bucket of a request. Each row links one endpoint of the API reference; a
 * path the table does not link gets the stricter of the plausible rows. So `GET /users/{id}/authentication-
 * methods` and `GET /users/{id}` spend "All other" (150/min), not Read Users (500/min, linked to `GET /users`
 * only), and `GET /logs/{id}` spends Read Logs (100/min, stricter than "All other").
 */
function paidBucket(method: string, path: string): BucketLimit {
  const user = /^\/users\/[^/]+$/.test(path);
  if (method === 'GET' && path === '/users') return PAID.readUsers;
  if ((method === 'POST' && path === '/users') || (method === 'PATCH' && user)) return PAID.writeUsers;
  if (method === 'DELETE' && user) return PAID.deleteUsers;
  if (method === 'GET' && /^\/logs(\/[^/]+)?$/.test(path)) return PAID.readLogs;
  if (method === 'GET' && path === '/clients') return PAID.readClients;
  if (method === 'GET' && path === '/connections') return PAID.readConnections;
  return PAID.other;
}

/**
 * The buckets a request spends, outermost first. `path` is relative to `/api/v2` (`/logs`,
 * `/users/auth0%7C1/authentication-methods`). Free and Enterprise list endpoint rows too, but none for an
 * endpoint callerpop calls: those go to the global bucket alone.
 */
export function bucketsFor(plan: Auth0Plan, method: string, path: string): readonly BucketLimit[] {
  const verb = method.toUpperCase();
  switch (plan) {
    case 'free':
      return [FREE];
    case 'enterprise':
      return [ENTERPRISE];
    case 'enterprise-non-production':
      return [ENTERPRISE_NON_PRODUCTION];
    case 'essentials':
    case 'professional':
      return [paidBucket(verb, path)];
  }
}

export function windowMs(limit: BucketLimit): number {
  return limit.per === 'second' ? 1000 : 60_000;
}

/** Tokens added per millisecond at the sustained rate. */
export function refillPerMs(limit: BucketLimit): number {
  return limit.sustained / windowMs(limit);
}

/**
 * How the bucket refills: `token-bucket` as rate-limit-policy.mdx says (continuously for per-second rates,
 * each second for per-minute rates), `fixed-window` as rate-limit-use-cases.mdx says (at the top of each
 * second or minute, never above the burst: at most min(burst, sustained) per window).
 */
export type RefillReading = 'token-bucket' | 'fixed-window';

/**
 * How long `calls` requests take when the bucket is the only limit: the first `burst` at once, the rest
 * at the sustained rate. Under the fixed-window reading the rest come min(burst, sustained) per window,
 * the first window ending half a window later on average. Several buckets: the slowest one.
 */
export function estimateDurationMs(
  limits: readonly BucketLimit[],
  calls: number,
  reading: RefillReading = 'token-bucket',
): number {
  let worst = 0;
  for (const limit of limits) {
    const beyond = calls - limit.burst;
    if (beyond <= 0) continue;
    const ms =
      reading === 'token-bucket'
        ? beyond / refillPerMs(limit)
        : (Math.ceil(beyond / Math.min(limit.burst, limit.sustained)) - 0.5) * windowMs(limit);
    worst = Math.max(worst, ms);
  }
  return worst;
}

/** "10 burst, 150/minute" */
export function describeLimit(limit: BucketLimit): string {
  return `${limit.burst} burst, ${limit.sustained}/${limit.per}`;
}
