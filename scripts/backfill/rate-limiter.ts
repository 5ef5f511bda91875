/**
 * Paces Management API calls by what Auth0 says, never by a guess:
 * - `x-ratelimit-remaining` minus every request that may not be counted in it yet (sent after the
 *   response, or still unanswered when it arrived) is what may be sent now;
 * - the bucket refills between `remaining` now and `limit` at `x-ratelimit-reset` (epoch seconds, when it
 *   is full again). The straight line between the two is a lower bound of the real refill (the reset is
 *   rounded up to a second, and a token bucket refills at least that fast), so a request sent when that
 *   line says a token is there never exceeds what the headers allow;
 * - without a usable reset, wait for it, then send one probe to learn the new state before spending again;
 * - a 429 pauses everything for `Retry-After` (else until the reset) and halves the concurrency window.
 * Concurrency grows by one per window of successful calls while the bucket has room (AIMD), up to a cap.
 */

export interface RateLimitState {
  limit?: number;
  remaining?: number;
  /** Epoch ms at which the bucket is full again. */
  resetAt?: number;
}

export interface LimiterStats {
  concurrency: number;
  peakConcurrency: number;
  sent: number;
  throttled: number;
  waitedMs: number;
}

export interface LimiterOptions {
  maxConcurrency: number;
  initialConcurrency?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Clock skew allowance when waiting for a reset given in whole seconds. */
const RESET_MARGIN_MS = 50;

export function readRateLimitHeaders(headers: Headers | undefined): RateLimitState | undefined {
  if (!headers) return undefined;
  const num = (name: string) => {
    const raw = headers.get(name);
    if (raw === null || raw.trim() === '') return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : undefined;
  };
  const limit = num('x-ratelimit-limit');
  const remaining = num('x-ratelimit-remaining');
  const reset = num('x-ratelimit-reset');
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined;
  return { limit, remaining, resetAt: reset === undefined ? undefined : reset * 1000 };
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now. */
export function readRetryAfter(headers: Headers | undefined, now: number): number | undefined {
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class AdaptiveLimiter {
  private window: number;
  private inFlight = 0;
  /** Last `remaining` seen; undefined until a response tells us (or after a reset: probe first). */
  private remaining: number | undefined;
  /** Requests that may not be counted in `remaining`. */
  private debt = 0;
  private resetAt: number | undefined;
  private limit: number | undefined;
  /** When `remaining` was read. */
  private readAt = 0;
  private pausedUntil = 0;
  private wakeups: (() => void)[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  readonly stats: LimiterStats;

  constructor(private readonly options: LimiterOptions) {
    this.window = Math.max(1, options.initialConcurrency ?? 1);
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

  /** Resolves when one more request may be sent; the caller must call `settle` when it has an answer. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.now();
      if (now < this.pausedUntil) {
        await this.wait(this.pausedUntil - now);
        continue;
      }
      if (this.inFlight >= this.concurrency) {
        await this.nextSettle();
        continue;
      }
      if (this.remaining === undefined) {
        // Unknown state: one probe at a time until a response says how much room there is.
        if (this.inFlight > 0) {
          await this.nextSettle();
          continue;
        }
      } else if (this.available(now) < 1) {
        const untilToken = this.untilNextToken(now);
        if (this.inFlight > 0) {
          // A response may bring a fresher count; the refill may get there first.
          await Promise.race([
            this.nextSettle(),
            ...(Number.isFinite(untilToken) ? [this.wait(untilToken)] : []),
          ]);
          continue;
        }
        if (Number.isFinite(untilToken)) {
          await this.wait(untilToken);
          continue;
        }
        const until = (this.resetAt ?? now + 1000) + RESET_MARGIN_MS;
        if (until > now) await this.wait(until - now);
        this.remaining = undefined;
        this.debt = 0;
        continue;
      }
      this.inFlight += 1;
      this.debt += 1;
      this.stats.sent += 1;
      return;
    }
  }

  /** Records the answer to a request sent after `acquire`. */
  settle(outcome: 'ok' | 'throttled' | 'failed', state?: RateLimitState, retryAfterMs?: number): void {
    this.inFlight -= 1;
    const now = this.now();
    if (state?.remaining !== undefined) {
      this.remaining = state.remaining;
      this.readAt = now;
      // Everything still unanswered may have reached Auth0 after this count was taken.
      this.debt = this.inFlight;
      this.resetAt = state.resetAt;
      this.limit = state.limit;
    }
    if (outcome === 'throttled') {
      this.stats.throttled += 1;
      this.window = Math.max(1, this.window / 2);
      const pause = retryAfterMs ?? (this.resetAt !== undefined ? this.resetAt - now : 1000);
      this.pausedUntil = Math.max(this.pausedUntil, now + Math.max(pause, 0) + RESET_MARGIN_MS);
      // After the pause, learn the bucket again before spending it.
      this.remaining = undefined;
      this.debt = 0;
    } else if (outcome === 'ok' && this.remaining !== undefined) {
      const room = this.available(now);
      if (room > this.concurrency && this.window < this.options.maxConcurrency) {
        this.window = Math.min(this.options.maxConcurrency, this.window + 1 / this.concurrency);
      }
    }
    this.stats.concurrency = this.concurrency;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.concurrency);
    const wake = this.wakeups;
    this.wakeups = [];
    for (const w of wake) w();
  }

  /** Tokens the headers guarantee now: the last count, plus the refill line, minus what may be unaccounted. */
  private available(now: number): number {
    if (this.remaining === undefined) return 0;
    const rate = this.refillPerMs();
    const refilled = rate === undefined ? 0 : Math.floor(rate * Math.max(0, now - this.readAt));
    return Math.min(this.limit ?? Number.POSITIVE_INFINITY, this.remaining + refilled) - this.debt;
  }

  /** ms until the refill line gives one more token than is needed now; Infinity when the headers cannot say. */
  private untilNextToken(now: number): number {
    const rate = this.refillPerMs();
    if (rate === undefined || this.remaining === undefined) return Number.POSITIVE_INFINITY;
    const needed = this.debt + 1 - this.remaining;
    return Math.max(1, Math.ceil(this.readAt + needed / rate - now) + 1);
  }

  private refillPerMs(): number | undefined {
    if (this.limit === undefined || this.resetAt === undefined || this.remaining === undefined)
      return undefined;
    const span = this.resetAt - this.readAt;
    if (span <= 0 || this.limit <= this.remaining) return undefined;
    return (this.limit - this.remaining) / span;
  }

  private nextSettle(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  private async wait(ms: number): Promise<void> {
    this.stats.waitedMs += ms;
    await this.sleep(ms);
  }
}
