import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_READINGS } from '../../test/support/fake-auth0-buckets.js';
import { simulate } from '../../test/support/virtual-time.js';
import { bucketsFor, estimateDurationMs, ManagementRateLimiter } from '../auth0-api/index.js';
import { formatDuration, methodsLimits, pacingNote, remainingApiTime } from './pacing.js';

/**
 * The backfill's limiter (the shared one, src/auth0-api) against a simulated Auth0 token bucket in virtual
 * time: arbitrary limits, refill rates, latencies and concurrency caps. The bucket's headers are the truth,
 * read as Auth0 defines them (`x-ratelimit-reset`: when the next request is added), so any request beyond
 * what they allowed comes back 429.
 *
 * Changed with that reading: the earlier version of this file simulated a bucket whose reset announced when
 * it would be full again, and the limiter drew a refill line to it. Auth0 documents no such line; the pace
 * between resets now comes from the plan's documented rate (AUTH0_PLAN), so the first property gives the
 * limiter a plan no faster than the simulated bucket, and the second test uses Enterprise's documented
 * figures instead of the undocumented "1,000 per minute". Per-second buckets refilled in a fixed window (the
 * other reading) cost a refusal or a few while the limiter learns it: src/auth0-api/rate-limiter.test.ts bounds them.
 */
const ROUTE = { method: 'GET', path: '/users/auth0%7Cu1/authentication-methods' };

describe('the backfill limiter', () => {
  it('never exceeds what the rate-limit headers allow, whatever the limits and latencies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          limit: fc.integer({ min: 1, max: 50 }),
          // No slower than the plan the limiter is told (Free: 2/s).
          perSecond: fc.integer({ min: 2, max: 100 }),
          maxConcurrency: fc.integer({ min: 1, max: 32 }),
          latencies: fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
          calls: fc.integer({ min: 1, max: 150 }),
          resetRounding: fc.constantFrom('ceil' as const, 'floor' as const),
          phase: fc.integer({ min: 0, max: 999 }),
        }),
        async (spec) => {
          const result = await simulate({
            plan: 'free',
            limits: { reported: { burst: spec.limit, sustained: spec.perSecond, per: 'second' } },
            readings: { ...DEFAULT_READINGS, resetRounding: spec.resetRounding },
            route: ROUTE,
            maxConcurrency: spec.maxConcurrency,
            latencies: spec.latencies,
            calls: spec.calls,
            start: 1_700_000_000_000 + spec.phase,
          });
          expect(result.refused).toBe(0);
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 100) },
    );
  }, 120_000);

  it('goes about as fast as the bucket refills (not idling until each reset)', async () => {
    // Enterprise production, as rate-limit-configurations/enterprise-public.mdx documents it: 50 burst, 16/s.
    const result = await simulate({
      plan: 'enterprise',
      limits: { plan: 'enterprise' },
      readings: DEFAULT_READINGS,
      route: ROUTE,
      maxConcurrency: 16,
      latencies: [60, 90, 150],
      calls: 300,
      start: 1_700_000_000_000,
    });
    expect(result.refused).toBe(0);
    // 300 calls after a burst of 50 at 16/s: 15.6 s of virtual time at best.
    const ideal = ((300 - 50) / 16) * 1000;
    expect(result.elapsedMs).toBeLessThan(ideal * 1.1);
    expect(result.stats.peakConcurrency).toBeGreaterThan(1);
  });

  it('halves its concurrency and pauses on a 429 it could not have predicted', async () => {
    const sleeps: number[] = [];
    let now = 0;
    const limiter = new ManagementRateLimiter({
      bucketsFor: (route) => bucketsFor('enterprise', route.method, route.path),
      maxConcurrency: 8,
      initialConcurrency: 8,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    const ticket = await limiter.acquire(ROUTE);
    limiter.settle(ticket, 'throttled', { limit: 50, remaining: 0, resetAt: 10_000 }, 2_000);
    expect(limiter.concurrency).toBe(4);
    expect(limiter.stats.throttled).toBe(1);
    await limiter.acquire(ROUTE);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2_000);
  });
});

describe('the estimate the backfill prints', () => {
  it('names the documented limit and the time per 1,000 MFA users', () => {
    expect(pacingNote('essentials')).toBe(
      'Pacing authentication-methods calls by AUTH0_PLAN=essentials: All other Endpoints Combined (10 burst, ' +
        '150/minute). About 6.7 min per 1,000 MFA users; up to 1.7 h if Auth0 refills it once per window, as ' +
        'rate-limit-use-cases.mdx describes.',
    );
    expect(pacingNote('free')).toBe(
      'Pacing authentication-methods calls by AUTH0_PLAN=free: Management API (Free) (2 burst, 2/second). ' +
        'About 8.3 min per 1,000 MFA users.',
    );
  });

  it('projects the calls still to come at the sustained rate', () => {
    // A tenth of the export read, 30,000 calls made: 270,000 to go at Essentials' 2.5/s = 30 h.
    expect(remainingApiTime('essentials', 30_000, 0.1)).toBe('30.0 h');
    expect(formatDuration(estimateDurationMs(methodsLimits('free'), 300_000))).toBe('41.7 h');
  });
});
