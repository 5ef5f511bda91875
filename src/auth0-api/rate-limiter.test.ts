import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READINGS } from '../../test/support/fake-auth0-buckets.js';
import { simulate, virtualClock } from '../../test/support/virtual-time.js';
import { ManagementRateLimiter } from './rate-limiter.js';
import {
  AUTH0_PLANS,
  type BucketLimit,
  bucketsFor,
  estimateDurationMs,
  refillPerMs,
  windowMs,
} from './rate-limits.js';

/**
 * The shared Management API limiter against simulated Auth0 buckets in virtual time. The buckets follow the
 * docs (test/support/fake-auth0-buckets.ts) under each reading they leave open; the assertions are outcomes:
 * what the bucket refused, and how long the run took against the estimate the backfill prints.
 */

const ROUTES = [
  { method: 'GET', path: '/users/auth0%7Cu1/authentication-methods' },
  { method: 'GET', path: '/logs' },
];

describe('ManagementRateLimiter against the documented plans', () => {
  it('never exceeds a bucket, and takes what the printed estimate says (±10%), under every reading', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          plan: fc.constantFrom(...AUTH0_PLANS),
          route: fc.constantFrom(...ROUTES),
          refill: fc.constantFrom('token-bucket' as const, 'fixed-window' as const),
          resetRounding: fc.constantFrom('ceil' as const, 'floor' as const),
          /** Seconds (token bucket) or windows (fixed window) of sustained pacing after the burst. */
          span: fc.double({ min: 0, max: 1, noNaN: true }),
          latencies: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
          phase: fc.integer({ min: 0, max: 59_999 }),
        }),
        async (spec) => {
          const limits = bucketsFor(spec.plan, spec.route.method, spec.route.path);
          const bucket = limits[0] as BucketLimit;
          const perSecond = refillPerMs(bucket) * 1000;
          // The round trip is small against the time a burst takes to refill (Free: 1 s, the tightest).
          const maxLatency = Math.min(400, ((0.2 * bucket.burst) / perSecond) * 1000);
          const latencies = spec.latencies.map((f) => 1 + f * maxLatency);
          const tokenBucket = spec.refill === 'token-bucket';
          const perWindow = Math.min(bucket.burst, bucket.sustained);
          // Long enough that where in a window the run starts (±half a window) stays within the 10%.
          const calls = tokenBucket
            ? bucket.burst + Math.ceil((30 + spec.span * 60) * perSecond)
            : bucket.burst +
              perWindow * Math.round(bucket.per === 'second' ? 60 + spec.span * 40 : 8 + spec.span * 8);
          const result = await simulate({
            plan: spec.plan,
            limits: { plan: spec.plan },
            readings: { ...DEFAULT_READINGS, refill: spec.refill, resetRounding: spec.resetRounding },
            route: spec.route,
            // Enough in flight that the network is never what limits the pace.
            maxConcurrency: Math.min(32, Math.ceil((perSecond * Math.max(...latencies)) / 1000) * 2 + 2),
            latencies,
            calls,
            start: 1_700_000_000_000 + spec.phase,
          });
          // A per-second rate is trusted to refill continuously (rate-limit-policy.mdx) until a fixed window
          // refuses a request sent on that trust: the ones already on their way are refused too, never more.
          const learning =
            !tokenBucket && bucket.per === 'second'
              ? 1 + Math.ceil((perSecond * Math.max(...latencies)) / 1000)
              : 0;
          expect(result.refused).toBeLessThanOrEqual(learning);
          const estimate = estimateDurationMs(limits, calls, spec.refill);
          expect(Math.abs(result.elapsedMs - estimate)).toBeLessThanOrEqual(estimate * 0.1);
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 60) },
    );
    // Virtual time: a run of hours of Auth0's buckets costs a few ms to a few hundred ms of CPU.
  }, 120_000);

  it('reads x-ratelimit-reset as when the next request is added, not when the bucket is full', async () => {
    // Essentials/Professional "All other Endpoints Combined": 10 burst, 150/minute, added each second.
    const clock = virtualClock(1_700_000_000_000);
    const limiter = new ManagementRateLimiter({
      bucketsFor: (r) => bucketsFor('essentials', r.method, r.path),
      now: clock.now,
      sleep: clock.sleep,
      maxConcurrency: 8,
      initialConcurrency: 8,
    });
    const route = ROUTES[0] as (typeof ROUTES)[number];
    // Auth0 says: nothing left, more at the next second. The old reading (the bucket refills from 0 to 10
    // by then) would let ten requests through at once; the documented one promises one.
    const first = await limiter.acquire(route);
    limiter.settle(first, 'ok', { limit: 10, remaining: 0, resetAt: clock.now() + 1000 });
    const sent: number[] = [];
    const waiting = Array.from({ length: 3 }, () =>
      limiter.acquire(route).then((t) => {
        sent.push(clock.now());
        return t;
      }),
    );
    let settled = false;
    await clock.run(() => sent.length >= 1 || settled);
    expect(sent).toEqual([1_700_000_001_050]);
    // Still one: the next answer says how many came.
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    const probe = await waiting[0];
    if (!probe) throw new Error('no ticket');
    limiter.settle(probe, 'ok', { limit: 10, remaining: 1, resetAt: clock.now() + 950 });
    await clock.run(() => sent.length === 3);
    settled = true;
    expect(sent[1]).toBe(1_700_000_001_050);
    // The third waits for the next reset (and the documented rate: 2.5 per second).
    expect(sent[2]).toBeGreaterThanOrEqual(1_700_000_002_000);
  });

  it('estimates 1,000,000 Essentials calls at 150/minute as about 111 hours, and the fixed-window reading far longer', () => {
    const limits = bucketsFor('essentials', 'GET', '/users/auth0%7Cu1/authentication-methods');
    expect(estimateDurationMs(limits, 1_000_000) / 3_600_000).toBeCloseTo(111.1, 0);
    // rate-limit-use-cases.mdx's fixed window: at most min(burst, sustained) = 10 per minute.
    expect(estimateDurationMs(limits, 1_000_000, 'fixed-window') / 3_600_000).toBeCloseTo(1666.6, 0);
    expect(windowMs(limits[0] as BucketLimit)).toBe(60_000);
  });
});

describe('429s the headers could not predict', () => {
  const tight = { burst: 3, sustained: 2, per: 'second' } as const;
  const roomy = { burst: 20, sustained: 20, per: 'second' } as const;

  it.each([
    ...(['endpoint', 'global', 'tightest'] as const).flatMap((headersDescribe) =>
      [true, false].map((retryAfter) => ({ headersDescribe, retryAfter })),
    ),
  ])(
    'are waited out and retried (headers describe: $headersDescribe, Retry-After: $retryAfter)',
    async (readings) => {
      // AUTH0_PLAN overstates the tenant (Enterprise's 16/s against a 2/s global bucket).
      const result = await simulate({
        plan: 'enterprise',
        limits: { global: tight, reported: roomy },
        readings: { ...DEFAULT_READINGS, ...readings },
        route: ROUTES[0] as (typeof ROUTES)[number],
        maxConcurrency: 1,
        latencies: [30, 60],
        calls: 40,
        start: 1_700_000_000_000,
      });
      // Every call completed (simulate throws on a request given up), and each refusal's wait was honoured:
      // Retry-After, else a reset still ahead (one already past says nothing).
      expect(result.sent).toBe(40 + result.refused);
      result.arrivals.forEach((a, i) => {
        const next = result.arrivals[i + 1];
        if (!a.ok && a.waitUntil !== undefined && a.waitUntil > a.at && next)
          expect(next.at).toBeGreaterThanOrEqual(a.waitUntil);
      });
      // Headers describing the bucket that refuses: it stops refusing once it has learned the fixed window.
      if (readings.headersDescribe !== 'endpoint') expect(result.refused).toBeLessThanOrEqual(3);
      expect(result.elapsedMs).toBeLessThan(60_000);
    },
  );

  it('never happen when AUTH0_PLAN is right, whichever bucket the headers describe', async () => {
    for (const headersDescribe of ['endpoint', 'global', 'tightest'] as const) {
      // Free's documented global bucket (2, 2/s) plus a roomy endpoint bucket the headers may report instead.
      const result = await simulate({
        plan: 'free',
        limits: { global: { burst: 2, sustained: 2, per: 'second' }, reported: roomy },
        readings: { ...DEFAULT_READINGS, headersDescribe },
        route: ROUTES[0] as (typeof ROUTES)[number],
        maxConcurrency: 4,
        latencies: [40, 80],
        calls: 30,
        start: 1_700_000_000_000,
      });
      expect(result.refused).toBe(0);
    }
  });

  it('backs off 1 s, then 2 s, … when a 429 says neither Retry-After nor x-ratelimit-reset', async () => {
    const clock = virtualClock(0);
    const limiter = new ManagementRateLimiter({
      bucketsFor: (r) => bucketsFor('enterprise', r.method, r.path),
      now: clock.now,
      sleep: clock.sleep,
    });
    const route = ROUTES[0] as (typeof ROUTES)[number];
    const sentAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      let ticket: Awaited<ReturnType<typeof limiter.acquire>> | undefined;
      void limiter.acquire(route).then((t) => {
        ticket = t;
      });
      await clock.run(() => ticket !== undefined);
      sentAt.push(clock.now());
      if (ticket) limiter.settle(ticket, 'throttled');
    }
    expect((sentAt[1] ?? 0) - (sentAt[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect((sentAt[2] ?? 0) - (sentAt[1] ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(limiter.stats.throttled).toBe(3);
    expect(limiter.concurrency).toBe(1);
  });
});
