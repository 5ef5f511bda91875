import { type Decision, HeaderGate, RESET_MARGIN_MS, type SendMark } from './header-gate.js';
import type { RateLimitState } from './rate-limit-headers.js';
import { type BucketLimit, refillPerMs } from './rate-limits.js';

/**
 * Paces every Management API request of a process (backfill, log catch-up, account actions) so that it
 * spends no token Auth0 has not said is there. Two gates, both must open:
 * - the plan's documented bucket (rate-limits.ts), modelled here at its sustained rate and never fuller than
 *   the headers last said (another process may spend the same bucket): it paces even where the headers
 *   describe another bucket, or none;
 * - the headers (header-gate.ts), read as Auth0 defines them.
 * Requests for one bucket go in the order they asked; one bucket waiting holds up no other. A 429 pauses
 * everything for `Retry-After`, else until `x-ratelimit-reset`, else a growing backoff, and halves the
 * concurrency window; the window grows back by one per window of successful calls while there is room.
 */

export interface Route {
  method: string;
  /** Relative to `/api/v2`. */
  path: string;
}

export interface LimiterOptions {
  bucketsFor: (route: Route) => readonly BucketLimit[];
  maxConcurrency?: number;
  initialConcurrency?: number;
  now?: () => number;
  /** Resolves after `ms`, or as soon as `cancel` aborts (a settle came first). */
  sleep?: (ms: number, cancel: AbortSignal) => Promise<void>;
}

export interface LimiterStats {
  concurrency: number;
  peakConcurrency: number;
  sent: number;
  throttled: number;
  waitedMs: number;
}

/** Handed out by `acquire`, given back to `settle`. */
export interface Ticket {
  key: string;
  buckets: readonly BucketLimit[];
  mark: SendMark;
}

interface Waiter {
  buckets: readonly BucketLimit[];
  resolve: (ticket: Ticket) => void;
  reject: (reason: unknown) => void;
}

const MAX_BACKOFF_MS = 60_000;

export function defaultSleep(ms: number, cancel: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (cancel.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      cancel.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    cancel.addEventListener('abort', done);
  });
}

export class ManagementRateLimiter {
  private window: number;
  private inFlight = 0;
  private readonly gates = new Map<string, HeaderGate>();
  private readonly local = new Map<string, { tokens: number; at: number }>();
  private pausedUntil = 0;
  private throttledStreak = 0;
  private readonly wakeups = new Set<() => void>();
  private readonly queues = new Map<string, Waiter[]>();
  private readonly pumping = new Set<string>();
  private readonly now: () => number;
  private readonly sleep: (ms: number, cancel: AbortSignal) => Promise<void>;
  private readonly maxConcurrency: number;
  readonly stats: LimiterStats;

  constructor(private readonly options: LimiterOptions) {
    this.maxConcurrency = Math.max(1, options.maxConcurrency ?? 8);
    this.window = Math.min(this.maxConcurrency, Math.max(1, options.initialConcurrency ?? 1));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.stats = {
      concurrency: this.window,
      peakConcurrency: this.window,
      sent: 0,
      throttled: 0,
      waitedMs: 0,
    };
  }

  get concurrency(): number {
    return Math.max(1, Math.floor(this.window));
  }

  /** The documented buckets a request spends (for estimates and messages). */
  bucketsFor(route: Route): readonly BucketLimit[] {
    return this.options.bucketsFor(route);
  }

  /**
   * Resolves when the request may be sent; the caller must `settle` the ticket once it has an answer.
   * Requests for the same bucket go in the order they asked; one bucket waiting for its reset holds up no other.
   */
  acquire(route: Route, signal?: AbortSignal): Promise<Ticket> {
    signal?.throwIfAborted();
    const buckets = this.options.bucketsFor(route);
    const own = buckets.at(-1);
    if (!own) return Promise.reject(new Error(`no documented rate limit for ${route.method} ${route.path}`));
    const key = own.id;
    return new Promise<Ticket>((resolve, reject) => {
      const queue = this.queues.get(key) ?? [];
      this.queues.set(key, queue);
      const waiter: Waiter = { buckets, resolve, reject };
      queue.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = queue.indexOf(waiter);
          if (i === -1) return;
          queue.splice(i, 1);
          reject(signal.reason);
          this.wakeAll();
        },
        { once: true },
      );
      void this.pump(key, queue);
    });
  }

  /** Hands out tickets to one bucket's queue, head first, for as long as it has waiters. */
  private async pump(key: string, queue: Waiter[]): Promise<void> {
    if (this.pumping.has(key)) return;
    this.pumping.add(key);
    try {
      for (let head = queue[0]; head; head = queue[0]) {
        const now = this.now();
        const blocked = this.blocked(key, head.buckets, now);
        if (blocked === 'go' || blocked === 'early') {
          queue.shift();
          head.resolve(this.send(key, head.buckets, now, blocked === 'early'));
          continue;
        }
        await this.wait(blocked, now);
      }
    } finally {
      this.pumping.delete(key);
    }
  }

  /** Records the answer to a request sent after `acquire`. */
  settle(
    ticket: Ticket,
    outcome: 'ok' | 'throttled' | 'failed',
    state?: RateLimitState,
    retryAfterMs?: number,
  ): void {
    this.inFlight -= 1;
    const now = this.now();
    const gate = this.gate(ticket.key, ticket.buckets);
    const own = ticket.buckets.at(-1);
    // The modelled bucket never holds more than the headers allow (a bucket refilled continuously is
    // bounded by its gate alone: re-anchoring at each answer would lose the refill during its round trip).
    if (gate.answered(ticket.mark, now, state) && own && !gate.continuous)
      this.setTokens(own, now, Math.min(this.tokens(own, now), Math.max(0, gate.room(now))));
    if (outcome === 'throttled') this.throttled(ticket, now, state, retryAfterMs);
    else if (outcome === 'ok') {
      this.throttledStreak = 0;
      this.grow(ticket, now);
    }
    this.stats.concurrency = this.concurrency;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.concurrency);
    this.wakeAll();
  }

  private wakeAll() {
    const wake = [...this.wakeups];
    this.wakeups.clear();
    for (const w of wake) w();
  }

  private send(key: string, buckets: readonly BucketLimit[], now: number, early: boolean): Ticket {
    for (const b of buckets) this.setTokens(b, now, this.tokens(b, now) - 1);
    this.inFlight += 1;
    this.stats.sent += 1;
    return { key, buckets, mark: this.gate(key, buckets).sending(early) };
  }

  /** The headers of a request describe (at best) its own bucket: the last, most specific, it spends. */
  private gate(key: string, buckets: readonly BucketLimit[]): HeaderGate {
    const existing = this.gates.get(key);
    if (existing) return existing;
    // acquire() refuses a request without a bucket, so every ticket has one.
    const gate = new HeaderGate(buckets.at(-1) as BucketLimit);
    this.gates.set(key, gate);
    return gate;
  }

  private blocked(key: string, buckets: readonly BucketLimit[], now: number): Decision {
    if (now < this.pausedUntil) return { until: this.pausedUntil };
    if (this.inFlight >= this.concurrency) return { settle: true };
    let until = 0;
    for (const b of buckets) {
      const tokens = this.tokens(b, now);
      if (tokens < 1) until = Math.max(until, now + Math.ceil((1 - tokens) / refillPerMs(b)));
    }
    if (until > now) return { until };
    return this.gate(key, buckets).decide(now);
  }

  private throttled(ticket: Ticket, now: number, state: RateLimitState | undefined, retryAfterMs?: number) {
    this.stats.throttled += 1;
    this.throttledStreak += 1;
    this.window = Math.max(1, this.window / 2);
    this.gate(ticket.key, ticket.buckets).refused(ticket.mark);
    const reset = state?.resetAt;
    // Retry-After when Auth0 sends one; else the reset. A reset already past may be a time rounded down to
    // its second (the next request comes within it), so the end of that second; with neither, a backoff.
    const pause =
      retryAfterMs ??
      (reset === undefined
        ? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.throttledStreak - 1))
        : Math.max(0, (reset > now ? reset : reset + 1000) - now));
    this.pausedUntil = Math.max(this.pausedUntil, now + pause + RESET_MARGIN_MS);
    // Auth0 said the bucket is empty: after the pause, learn it again before spending it.
    for (const b of ticket.buckets) this.setTokens(b, now, Math.min(0, this.tokens(b, now)));
  }

  /** More in flight than the bucket holds only makes every count less certain. */
  private grow(ticket: Ticket, now: number) {
    const gate = this.gate(ticket.key, ticket.buckets);
    const cap = Math.min(this.maxConcurrency, gate.limit ?? Number.POSITIVE_INFINITY, gate.bucket.burst);
    if (gate.room(now) >= 1 && this.window < cap)
      this.window = Math.min(cap, this.window + 1 / this.concurrency);
  }

  private tokens(b: BucketLimit, now: number): number {
    const state = this.local.get(b.id);
    if (!state) return b.burst;
    return Math.min(b.burst, state.tokens + Math.max(0, now - state.at) * refillPerMs(b));
  }

  private setTokens(b: BucketLimit, now: number, tokens: number) {
    this.local.set(b.id, { tokens, at: now });
  }

  private async wait(blocked: Exclude<Decision, string>, now: number): Promise<void> {
    const cancel = new AbortController();
    const waits: Promise<void>[] = [];
    if (blocked.until !== undefined) waits.push(this.sleep(blocked.until - now, cancel.signal));
    if (blocked.settle || waits.length === 0)
      waits.push(
        new Promise<void>((resolve) => {
          const wake = () => {
            this.wakeups.delete(wake);
            resolve();
          };
          this.wakeups.add(wake);
          cancel.signal.addEventListener('abort', wake);
        }),
      );
    try {
      await Promise.race(waits);
    } finally {
      cancel.abort();
      this.stats.waitedMs += Math.max(0, this.now() - now);
    }
  }
}
