/**
 * Auth0's rate-limit buckets as its documentation describes them, for the loopback stand-in
 * (fake-auth0.ts) and for virtual-time simulations. Written from the pages, not from src/auth0-api:
 * test/auth0-rate-limits.test.ts checks that the two tables agree. Pages are in auth0/docs-v2 under
 * main/docs/troubleshoot/customer-support/operational-policies/.
 *
 * Where the pages disagree or say nothing, each reading can be chosen (`BucketReadings`).
 */

export interface BucketSpec {
  /** Bucket size = burst limit (rate-limit-policy.mdx, "Rate limit algorithm"). */
  burst: number;
  /** Sustained limit: `sustained` requests per `per`. */
  sustained: number;
  per: 'second' | 'minute';
}

export interface BucketReadings {
  /**
   * `token-bucket`: rate-limit-policy.mdx, "Rate limit algorithm": "If the sustained rate limit is calculated
   * in Requests per Second, new requests are added by milliseconds. If … in Requests per Minute, new requests
   * are added on a second basis." `fixed-window`: rate-limit-use-cases.mdx, "Examples of how rate limits are
   * enforced": "New tokens are added to the bucket, refilling it at the “top” of each second" (each minute
   * for a per-minute limit), the bucket never above its burst.
   */
  refill: 'token-bucket' | 'fixed-window';
  /**
   * `x-ratelimit-reset` is "UNIX timestamp, in seconds, of the expected time when additional requests will
   * be added" (rate-limit-use-cases.mdx, "Predict when requests to a tenant will be rate limited"). How a
   * time between two seconds is written in whole seconds is not said: rounded up or down.
   */
  resetRounding: 'ceil' | 'floor';
}

export interface RateLimitReadings extends BucketReadings {
  /**
   * Whether a 429 carries `Retry-After`. The Management API's 429 says only "Too many requests. Check the
   * X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers." (OAS, every operation's 429);
   * Retry-After is documented for custom rate-limit policies (custom-rate-limit-policies.mdx), not here.
   */
  retryAfter: boolean;
  /**
   * Which bucket the headers describe when a request spends two. Auth0 "evaluates requests against the
   * global limit for the API, and then … against the rate limit for specific API endpoints"
   * (rate-limit-policy.mdx, "Tenant request limits order"); the headers come "from endpoints that have rate
   * limit policies configured" (rate-limit-use-cases.mdx). Which one they report is not said: the
   * endpoint's, the global one, or whichever has fewer requests left.
   */
  headersDescribe: 'endpoint' | 'global' | 'tightest';
}

export const DEFAULT_READINGS: RateLimitReadings = {
  refill: 'token-bucket',
  resetRounding: 'ceil',
  retryAfter: false,
  headersDescribe: 'endpoint',
};

export interface TakeResult {
  ok: boolean;
  /** `x-ratelimit-remaining`: whole requests left. */
  remaining: number;
  /** `x-ratelimit-reset`, epoch seconds. */
  reset: number;
  /** When the next whole request arrives, epoch ms (for Retry-After). */
  nextAt: number;
}

const windowOf = (spec: BucketSpec) => (spec.per === 'second' ? 1000 : 60_000);

export class DocumentedBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly spec: BucketSpec,
    readonly readings: BucketReadings,
    now: number,
  ) {
    // rate-limit-use-cases.mdx: "API begins with … request tokens, which is equal to the burst limit."
    this.tokens = spec.burst;
    this.last = now;
  }

  /** Tokens added between `last` and `now`, at the instants the reading adds them. */
  private refill(now: number) {
    const { spec } = this;
    if (now <= this.last) return;
    let added: number;
    if (this.readings.refill === 'fixed-window') {
      const w = windowOf(spec);
      added = (Math.floor(now / w) - Math.floor(this.last / w)) * spec.sustained;
    } else if (spec.per === 'second') added = ((now - this.last) / 1000) * spec.sustained;
    else added = (Math.floor(now / 1000) - Math.floor(this.last / 1000)) * (spec.sustained / 60);
    this.tokens = Math.min(spec.burst, this.tokens + added);
    this.last = now;
  }

  /** When the next whole request is added (the full bucket: now). */
  private nextTokenAt(now: number): number {
    const { spec } = this;
    if (this.tokens >= spec.burst) return now;
    const needed = Math.floor(this.tokens) + 1 - this.tokens;
    if (this.readings.refill === 'fixed-window') {
      const w = windowOf(spec);
      return (Math.floor(now / w) + 1) * w;
    }
    if (spec.per === 'second') return now + (needed / spec.sustained) * 1000;
    const perSecond = spec.sustained / 60;
    return (Math.floor(now / 1000) + Math.ceil(needed / perSecond - 1e-9)) * 1000;
  }

  /** Spends a request if one is there (`consume` false: only reports the state). */
  take(now: number, consume = true): TakeResult {
    this.refill(now);
    const ok = consume && this.tokens >= 1;
    if (ok) this.tokens -= 1;
    const nextAt = this.nextTokenAt(now);
    const round = this.readings.resetRounding === 'ceil' ? Math.ceil : Math.floor;
    return { ok, remaining: Math.floor(this.tokens), reset: round(nextAt / 1000), nextAt };
  }
}

/**
 * The documented Management API limits per plan: a global bucket and/or one per endpoint row.
 * - free: rate-limit-configurations/free-public.mdx, accordion "Management API": "Management | 2 | 2/second";
 * - essentials / professional: rate-limit-configurations/essentials-professional-b2b.mdx, accordion
 *   "Management API": no global row; "Read Users GET 40 | 500/minute", "Read Logs GET 10 | 100/minute",
 *   "All other Endpoints Combined | 10 | 150/minute", …;
 * - enterprise: rate-limit-configurations/enterprise-public.mdx, "## Management API": "Production | 50 |
 *   16/second", "Non-production | 10 | 2/second".
 */
export interface PlanPreset {
  global?: BucketSpec;
  /** The endpoint row a request falls under, if the plan lists one for it. */
  endpoint?: (method: string, path: string) => { id: string; spec: BucketSpec } | undefined;
}

const perMinute = (burst: number, sustained: number): BucketSpec => ({ burst, sustained, per: 'minute' });

function essentialsRow(method: string, path: string): { id: string; spec: BucketSpec } {
  if (method === 'GET' && path === '/users') return { id: 'read-users', spec: perMinute(40, 500) };
  if (method === 'GET' && /^\/logs(\/[^/]+)?$/.test(path))
    return { id: 'read-logs', spec: perMinute(10, 100) };
  return { id: 'other', spec: perMinute(10, 150) };
}

export const PLAN_PRESETS = {
  free: { global: { burst: 2, sustained: 2, per: 'second' } },
  essentials: { endpoint: essentialsRow },
  professional: { endpoint: essentialsRow },
  enterprise: { global: { burst: 50, sustained: 16, per: 'second' } },
  'enterprise-non-production': { global: { burst: 10, sustained: 2, per: 'second' } },
} satisfies Record<string, PlanPreset>;

export type PresetName = keyof typeof PLAN_PRESETS;

export interface LimitsSpec {
  plan?: PresetName;
  /**
   * Buckets instead of a plan, each spent by every request: `global` first, then `reported` (the endpoint's).
   * `hidden` stands in for `global` but is never reported: a limit the headers do not describe.
   */
  reported?: BucketSpec;
  global?: BucketSpec;
  hidden?: BucketSpec;
}

export interface Verdict {
  ok: boolean;
  /** What the headers say (undefined: no bucket to report). */
  reported?: { limit: number } & TakeResult;
  /** The bucket that refused (or the last one spent). */
  decisive: TakeResult;
}

/** Every bucket a tenant has under `spec`, spent in the order Auth0 evaluates them. */
export function createRateLimits(spec: LimitsSpec, readings: RateLimitReadings, start: number) {
  const preset: PlanPreset | undefined = spec.plan ? PLAN_PRESETS[spec.plan] : undefined;
  const make = (b: BucketSpec) => new DocumentedBucket(b, readings, start);
  const globalSpec = preset ? preset.global : (spec.hidden ?? spec.global);
  const global = globalSpec ? make(globalSpec) : undefined;
  // A hidden bucket stands for a limit the headers do not describe: never reported.
  const globalReported = !spec.hidden;
  const single = preset ? undefined : make(spec.reported ?? { burst: 50, sustained: 50, per: 'second' });
  const rows = new Map<string, DocumentedBucket>();
  const endpointOf = (method: string, path: string) => {
    if (single) return single;
    const row = preset?.endpoint?.(method, path);
    if (!row) return undefined;
    const bucket = rows.get(row.id) ?? make(row.spec);
    rows.set(row.id, bucket);
    return bucket;
  };
  return {
    take(method: string, path: string, now: number): Verdict {
      const endpoint = endpointOf(method, path);
      const g = global?.take(now);
      // Refused by the global bucket, the endpoint's is not spent; refused by the endpoint's, the global
      // token stays spent (evaluated one after the other; refunds are not documented either way).
      const e = endpoint?.take(now, g?.ok ?? true);
      const pairs = [
        ...(g && global && globalReported ? [{ r: g, limit: global.spec.burst }] : []),
        ...(e && endpoint ? [{ r: e, limit: endpoint.spec.burst }] : []),
      ];
      const described =
        readings.headersDescribe === 'tightest'
          ? [...pairs].sort((a, b) => a.r.remaining - b.r.remaining)[0]
          : readings.headersDescribe === 'global'
            ? pairs[0]
            : pairs.at(-1);
      const ok = (g?.ok ?? true) && (e?.ok ?? true);
      const decisive = (g && !g.ok ? g : (e ?? g)) ?? { ok, remaining: 0, reset: 0, nextAt: now };
      return { ok, reported: described && { limit: described.limit, ...described.r }, decisive };
    },
  };
}
