import type { BackgroundWork } from '../deps.js';

/**
 * The Node runtime's record of work a request left running after its response (an interaction waiting
 * in the recorder's window or retried after a failed write, a push): on Workers waitUntil keeps such work
 * alive; on Node nothing did, and a shutdown closed the database under it. The entry waits for it here.
 */
export interface BackgroundTracker extends BackgroundWork {
  /** Promises not settled yet. */
  readonly size: number;
  /**
   * Resolves once every tracked promise has settled (work added meanwhile included), or once `ms` pass:
   * true when nothing is left.
   */
  settle(ms?: number): Promise<boolean>;
}

export function createBackgroundTracker(): BackgroundTracker {
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
