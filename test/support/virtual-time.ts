import { limitFetch } from '../../src/auth0-api/limited-fetch.js';
import { ManagementRateLimiter } from '../../src/auth0-api/rate-limiter.js';
import { type Auth0Plan, bucketsFor } from '../../src/auth0-api/rate-limits.js';
import { createRateLimits, type LimitsSpec, type RateLimitReadings } from './fake-auth0-buckets.js';

/**
 * A discrete-event clock: `sleep` queues a timer, `run` lets every promise settle, then jumps to the next
 * timer. Tests of the rate limiter run hours of Auth0's buckets in milliseconds, and assert outcomes (what
 * the simulated bucket refused, how long the virtual run took), never wall-clock timings.
 */
export function virtualClock(start: number) {
  let now = start;
  let seq = 0;
  const timers: { at: number; seq: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep(ms: number, cancel?: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        if (cancel?.aborted) return resolve();
        const timer = { at: now + Math.max(0, ms), seq: seq++, resolve };
        timers.push(timer);
        // A cancelled timer must not move the clock: nothing waits for it any more.
        cancel?.addEventListener('abort', () => {
          const i = timers.indexOf(timer);
          if (i !== -1) timers.splice(i, 1);
          resolve();
        });
      });
    },
    /** Advances time until `done()`; throws if everything waits and no timer is left. */
    async run(done: () => boolean): Promise<void> {
      let idle = 0;
      while (!done()) {
        await new Promise((r) => setImmediate(r));
        if (done()) break;
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift();
        if (!next) {
          if (++idle > 1000) throw new Error('deadlock: nothing to wait for');
          continue;
        }
        idle = 0;
        now = Math.max(now, next.at);
        next.resolve();
      }
    },
  };
}

export interface SimulationSpec {
  /** What the limiter is told (AUTH0_PLAN). */
  plan: Auth0Plan;
  /** What the simulated tenant enforces. */
  limits: LimitsSpec;
  readings: RateLimitReadings;
  route: { method: string; path: string };
  maxConcurrency: number;
  /** Round-trip times, used in turn. */
  latencies: number[];
  calls: number;
  /** Epoch ms the run starts at (its phase within a second or minute matters). */
  start: number;
}

/**
 * `calls` concurrent requests through the real limited fetch and limiter against a simulated tenant whose
 * buckets follow the docs under `readings`. Returns what the tenant refused and the virtual time taken.
 */
export async function simulate(spec: SimulationSpec) {
  const clock = virtualClock(spec.start);
  const tenant = createRateLimits(spec.limits, spec.readings, spec.start);
  let sent = 0;
  let refused = 0;
  /** What the tenant decided, in arrival order: the time, and what a refusal told the client. */
  const arrivals: { at: number; ok: boolean; waitUntil?: number }[] = [];
  const inner: typeof fetch = async (input, init) => {
    const latency = spec.latencies[sent % spec.latencies.length] ?? 10;
    sent += 1;
    await clock.sleep(latency / 2);
    const v = tenant.take(
      init?.method ?? 'GET',
      new URL(String(input)).pathname.slice('/api/v2'.length),
      clock.now(),
    );
    await clock.sleep(latency / 2);
    if (!v.ok) refused += 1;
    const retryAfter = Math.max(1, Math.ceil((v.decisive.nextAt - clock.now()) / 1000));
    arrivals.push({
      at: clock.now(),
      ok: v.ok,
      ...(v.ok
        ? {}
        : {
            waitUntil: spec.readings.retryAfter
              ? clock.now() + retryAfter * 1000
              : v.reported && v.reported.reset * 1000,
          }),
    });
    const headers = new Headers();
    if (v.reported) {
      headers.set('x-ratelimit-limit', String(v.reported.limit));
      headers.set('x-ratelimit-remaining', String(v.reported.remaining));
      headers.set('x-ratelimit-reset', String(v.reported.reset));
    }
    if (!v.ok && spec.readings.retryAfter) headers.set('retry-after', String(retryAfter));
    return new Response('{}', { status: v.ok ? 200 : 429, headers });
  };
  const limiter = new ManagementRateLimiter({
    bucketsFor: (route) => bucketsFor(spec.plan, route.method, route.path),
    maxConcurrency: spec.maxConcurrency,
    now: clock.now,
    sleep: clock.sleep,
  });
  const limited = limitFetch(inner, { limiter, now: clock.now, maxThrottled: 1000 });
  let done = 0;
  let lastAt = spec.start;
  const url = `https://tenant.test/api/v2${spec.route.path}`;
  const all = Promise.all(
    Array.from({ length: spec.calls }, async () => {
      const res = await limited(url, { method: spec.route.method });
      if (res.status !== 200) throw new Error(`gave up with ${res.status}`);
      done += 1;
      lastAt = clock.now();
    }),
  );
  await Promise.all([all, clock.run(() => done === spec.calls)]);
  return { refused, sent, arrivals, elapsedMs: lastAt - spec.start, stats: limiter.stats };
}
