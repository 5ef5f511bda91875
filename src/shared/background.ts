import type { Context } from 'hono';
import { getRuntimeKey } from 'hono/adapter';
import { describeError, type Logger } from './logger.js';

/**
 * Work a request leaves running after its answer: an interaction recorded behind a text's answer, a write
 * retried after a failure, a push. On Workers the request's waitUntil keeps it alive (and cuts it off 30 s
 * after the response); on Node nothing does, so it is tracked, and a shutdown waits for it.
 */

/** Hands a promise to the runtime so it may outlive the response. */
export type Background = (task: Promise<unknown>) => void;

/** Where a process keeps its background work: `track` it, `settle` it before stopping. */
export interface BackgroundWork {
  track(task: Promise<unknown>): void;
  /** Promises not settled yet. */
  readonly size: number;
  /**
   * Resolves once every tracked promise has settled (work added meanwhile included), or once `ms` pass:
   * true when nothing is left.
   */
  settle(ms?: number): Promise<boolean>;
}

export function createBackgroundWork(): BackgroundWork {
  const pending = new Set<Promise<unknown>>();
  return {
    get size() {
      return pending.size;
    },
    track(task) {
      const settled = task.then(
        () => undefined,
        () => undefined,
      );
      pending.add(settled);
      void settled.then(() => pending.delete(settled));
    },
    async settle(ms = Number.POSITIVE_INFINITY) {
      const deadline = Date.now() + ms;
      while (pending.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<void>((resolve) => {
          if (Number.isFinite(left)) timer = setTimeout(resolve, left);
        });
        await Promise.race([Promise.allSettled([...pending]), timeout]);
        clearTimeout(timer);
      }
      return true;
    },
  };
}

/**
 * The background seam of one request: tracked by the process's BackgroundWork, and on workerd also handed
 * to the request's waitUntil. A failure is logged (masked), never thrown into nowhere.
 */
export function backgroundFor(c: Context, deps: { background: BackgroundWork; logger: Logger }): Background {
  // Only workerd has an execution context; asking Hono for a missing one throws (a cost per request).
  const ctx = getRuntimeKey() === 'workerd' ? c.executionCtx : undefined;
  return (task) => {
    const guarded = task.catch((err: unknown) =>
      deps.logger.error('background task failed', { error: describeError(err) }),
    );
    deps.background.track(guarded);
    ctx?.waitUntil(guarded);
  };
}
