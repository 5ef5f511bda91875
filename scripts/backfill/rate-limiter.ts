/**
 * Paces Management API calls by what Auth0 says, never by a guess:
 * - a response's `x-ratelimit-remaining` counts every request Auth0 had processed before it. Requests
 *   that may have been processed after it are those still unanswered when it was sent, and those sent
 *   since: `remaining` minus those (its "debt") is a safe count of what may be sent now, whatever order
 *   responses come back in. Of all responses, the one giving the most room is used (each is safe);
 * - the bucket refills from `remaining` to `limit` by `x-ratelimit-reset` (epoch seconds, when it is full
 *   again). The straight line between the two lies below the real refill (the reset is rounded up to a
 *   second, and a token bucket refills at least that fast), so a request sent when that line says a token
 *   is there never exceeds what the headers allow;
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

/** Handed out by `acquire`, given back to `settle`: where the request stood in the send order. */
export interface Ticket {
  /** Requests sent before this one, including it. */
  sentIndex: number;
  /** Requests unanswered when this one was sent. */
  inFlightAtSend: number;
}

interface BucketView {
  remaining: number;
  /** When `remaining` was read (ms). */
  readAt: number;
  /** Requests that may have been processed after `remaining` was counted. */
  debt: number;
  limit: number | undefined;
  resetAt: number | undefined;
}

export class AdaptiveLimiter {
  private window: number;
  private inFlight = 0;
  private sentTotal = 0;
  /** What the headers guarantee; undefined until a response says (or after a reset: probe first). */
  private view: BucketView | undefined;
  private resetAt: number | undefined;
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

  /** Resolves when one more request may be sent; the caller must `settle` the ticket when it has an answer. */
  async acquire(): Promise<Ticket> {
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
      if (this.view === undefined) {
        // Unknown state: one probe at a time until a response says how much room there is.
        if (this.inFlight > 0) {
          await this.nextSettle();
          continue;
        }
      } else if (available(this.view, now) < 1) {
        const untilToken = untilNextToken(this.view, now);
        if (this.inFlight > 0) {
          // A response may bring a better count; the refill may get there first.
          await Promise.race([
            this.nextSettle(),
            ...(Number.isFinite(untilToken) ? [this.wait(untilToken)] : []),
          ]);
          continue;
        }
        // Everything is answered: by the latest reset any response announced, the bucket is full.
        const full = this.resetAt;
        if (Number.isFinite(untilToken) && (full === undefined || now + untilToken < full)) {
          await this.wait(untilToken);
          continue;
        }
        const until = (full ?? now + 1000) + RESET_MARGIN_MS;
        if (until > now) await this.wait(until - now);
        this.view = undefined;
        continue;
      }
      const ticket = { sentIndex: this.sentTotal + 1, inFlightAtSend: this.inFlight };
      this.sentTotal += 1;
      this.inFlight += 1;
      if (this.view) this.view.debt += 1;
      this.stats.sent += 1;
      return ticket;
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
    if (state?.remaining !== undefined) {
      const candidate: BucketView = {
        remaining: state.remaining,
        readAt: now,
        debt: ticket.inFlightAtSend + (this.sentTotal - ticket.sentIndex),
        limit: state.limit,
        resetAt: state.resetAt,
      };
      if (!this.view || available(candidate, now) >= available(this.view, now)) this.view = candidate;
      if (state.resetAt !== undefined) this.resetAt = Math.max(this.resetAt ?? 0, state.resetAt);
    }
    if (outcome === 'throttled') {
      this.stats.throttled += 1;
      this.window = Math.max(1, this.window / 2);
      const pause = retryAfterMs ?? (this.resetAt !== undefined ? this.resetAt - now : 1000);
      this.pausedUntil = Math.max(this.pausedUntil, now + Math.max(pause, 0) + RESET_MARGIN_MS);
      // After the pause, learn the bucket again before spending it.
      this.view = undefined;
    } else if (outcome === 'ok' && this.view) {
      // More in flight than the bucket holds only makes every count less certain.
      const cap = Math.min(this.options.maxConcurrency, this.view.limit ?? Number.POSITIVE_INFINITY);
      if (available(this.view, now) > this.concurrency && this.window < cap)
        this.window = Math.min(cap, this.window + 1 / this.concurrency);
    }
    this.stats.concurrency = this.concurrency;
    this.stats.peakConcurrency = Math.max(this.stats.peakConcurrency, this.concurrency);
    const wake = this.wakeups;
    this.wakeups = [];
    for (const w of wake) w();
  }

  private nextSettle(): Promise<void> {
    return new Promise((resolve) => this.wakeups.push(resolve));
  }

  private async wait(ms: number): Promise<void> {
    this.stats.waitedMs += ms;
    await this.sleep(ms);
  }
}

/** Tokens the view guarantees now: its count, plus the refill line, minus what may be unaccounted. */
function available(view: BucketView, now: number): number {
  const rate = refillPerMs(view);
  const refilled = rate === undefined ? 0 : Math.floor(rate * Math.max(0, now - view.readAt));
  return Math.min(view.limit ?? Number.POSITIVE_INFINITY, view.remaining + refilled) - view.debt;
}

/** ms until the refill line gives the next token; Infinity when the headers cannot say. */
function untilNextToken(view: BucketView, now: number): number {
  const rate = refillPerMs(view);
  if (rate === undefined) return Number.POSITIVE_INFINITY;
  const needed = view.debt + 1 - view.remaining;
  return Math.max(1, Math.ceil(view.readAt + needed / rate - now) + 1);
}

function refillPerMs(view: BucketView): number | undefined {
  if (view.limit === undefined || view.resetAt === undefined) return undefined;
  const span = view.resetAt - view.readAt;
  if (span <= 0 || view.limit <= view.remaining) return undefined;
  return (view.limit - view.remaining) / span;
}
