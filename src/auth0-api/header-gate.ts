import type { RateLimitState } from './rate-limit-headers.js';
import { type BucketLimit, refillPerMs } from './rate-limits.js';

/**
 * What the rate-limit headers of one bucket allow (rate-limit-use-cases.mdx, "Predict when requests to a
 * tenant will be rate limited"). How tokens come back decides how the counts are read:
 * - added at a reset (per-minute rates, "added on a second basis"; or a fixed window): counts only fall
 *   between two resets, so among the answers announcing the same `x-ratelimit-reset`, the lowest
 *   `x-ratelimit-remaining` is the latest state and only requests still unanswered may come after it.
 *   When it is spent, one request goes at the reset ("1 new request will be added at that time") and its
 *   answer says how many came;
 * - added continuously (per-second rates, "added by milliseconds", rate-limit-policy.mdx): a count plus
 *   the documented refill since it was read (Auth0 counted no later), less every request that may have been
 *   processed after it (unanswered when its request was sent, or sent since). Each answer gives such a
 *   bound; the best one is kept. The reset, a time in whole seconds, is not needed.
 * rate-limit-use-cases.mdx describes per-second limits as a fixed window instead: a refusal of a request
 * sent on the continuous refill alone (`early`) switches the bucket to waiting for its resets.
 */

export const RESET_MARGIN_MS = 50;

interface View {
  remaining: number;
  readAt: number;
  resetAt: number | undefined;
  limit: number | undefined;
  /** Requests that may have been processed after `remaining` was counted. */
  debt: number;
}

/** Where a request stood when sent, for reading its answer. */
export interface SendMark {
  index: number;
  pendingAtSend: number;
  early: boolean;
}

export type Decision = 'go' | 'early' | { until?: number; settle?: boolean };

export class HeaderGate {
  private view: View | undefined;
  private pending = 0;
  private sent = 0;
  private fixedWindow = false;

  constructor(readonly bucket: BucketLimit) {}

  get continuous(): boolean {
    return this.bucket.per === 'second' && !this.fixedWindow;
  }

  get limit(): number | undefined {
    return this.view?.limit;
  }

  decide(now: number): Decision {
    const view = this.view;
    if (!view) return this.pending > 0 ? { settle: true } : 'go';
    if (this.continuous) {
      if (view.remaining - view.debt >= 1) return 'go';
      if (this.cap(view) - view.debt < 1) {
        if (this.pending > 0) return { settle: true };
        this.view = undefined;
        return 'go';
      }
      const at = view.readAt + Math.ceil((1 + view.debt - view.remaining) / refillPerMs(this.bucket));
      if (at > now) return { until: at, settle: this.pending > 0 };
      const reset = view.resetAt === undefined ? undefined : view.resetAt + RESET_MARGIN_MS;
      return reset === undefined || now < reset ? 'early' : 'go';
    }
    const base = view.remaining - this.pending;
    if (base >= 1) return 'go';
    const reset = view.resetAt === undefined ? undefined : view.resetAt + RESET_MARGIN_MS;
    if (reset !== undefined && now >= reset) return base >= 0 ? 'go' : { settle: true };
    if (reset !== undefined) return { until: reset, settle: this.pending > 0 };
    if (this.pending > 0) return { settle: true };
    // No reset to wait for and nothing unanswered: learn the bucket again with one request.
    this.view = undefined;
    return 'go';
  }

  /** Requests the headers allow now, with the part of one still refilling (for the modelled bucket). */
  room(now: number): number {
    const view = this.view;
    if (!view) return 0;
    if (this.continuous) return this.continuousRoom(view, now);
    const atReset = view.resetAt !== undefined && now >= view.resetAt + RESET_MARGIN_MS ? 1 : 0;
    return view.remaining - this.pending + atReset;
  }

  sending(early: boolean): SendMark {
    if (this.view) this.view.debt += 1;
    this.sent += 1;
    this.pending += 1;
    return { index: this.sent, pendingAtSend: this.pending - 1, early };
  }

  /** An answer came; with its headers when it had them. Returns whether they changed what is known. */
  answered(mark: SendMark, now: number, state: RateLimitState | undefined): boolean {
    this.pending -= 1;
    if (state?.remaining === undefined) return false;
    const fresh: View = {
      remaining: state.remaining,
      readAt: now,
      resetAt: state.resetAt,
      limit: state.limit,
      debt: mark.pendingAtSend + (this.sent - mark.index),
    };
    const current = this.view;
    if (current && !this.better(fresh, current, now)) return false;
    this.view = fresh;
    return true;
  }

  /** Auth0 refused: forget the counts (learn them again after the pause). */
  refused(mark: SendMark): void {
    if (mark.early) this.fixedWindow = true;
    this.view = undefined;
  }

  /**
   * The count plus the refill since (the bucket never above its size), less what may have been spent since:
   * a lower bound of what the bucket holds, whatever order the spending and the refill came in.
   */
  private continuousRoom(view: View, now: number): number {
    const refilled = view.remaining + Math.max(0, now - view.readAt) * refillPerMs(this.bucket);
    return Math.min(this.cap(view), refilled) - view.debt;
  }

  private cap(view: View): number {
    return Math.min(this.bucket.burst, view.limit ?? this.bucket.burst);
  }

  private better(fresh: View, current: View, now: number): boolean {
    // Compared unrounded: the one whose next request comes first.
    if (this.continuous) return this.continuousRoom(fresh, now) >= this.continuousRoom(current, now);
    // A later reset: tokens were added since the current view. An earlier one: counted before it.
    const f = fresh.resetAt ?? 0;
    const c = current.resetAt ?? 0;
    return f > c || (f === c && fresh.remaining < current.remaining);
  }
}
