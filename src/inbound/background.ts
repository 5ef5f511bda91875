import type { Context } from 'hono';
import { getRuntimeKey } from 'hono/adapter';
import type { AppDeps } from '../deps.js';
import { describeError } from '../shared/logger.js';
import type { Background } from './handle-inbound.js';

const ON_WORKERD = getRuntimeKey() === 'workerd';

/**
 * Where a request's after-the-answer work goes. On Workers it is handed to waitUntil so it can outlive the
 * response; on Node it runs on the event loop and is tracked (deps.background) so a shutdown waits for it.
 * A failure is logged, masked, never thrown into nowhere.
 */
export function backgroundFor(c: Context, deps: AppDeps): Background {
  // Only workerd has an execution context; asking Hono for a missing one throws (a cost per request).
  const ctx = ON_WORKERD ? c.executionCtx : undefined;
  return (task) => {
    const guarded = task.catch((err: unknown) =>
      deps.logger.error('background task failed', { error: describeError(err) }),
    );
    deps.background?.track(guarded);
    ctx?.waitUntil(guarded);
  };
}
