import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.js';
import { pingDatabase } from './queries.js';

/** Liveness plus database reachability, with a short deadline so a stalled database shows as such. */
export function healthRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get('/healthz', async (c) => {
    const started = deps.now();
    const database = await Promise.race([
      pingDatabase(deps.db).then(
        () => 'ok' as const,
        () => 'unreachable' as const,
      ),
      new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), deps.config.LOOKUP_DEADLINE_MS),
      ),
    ]);
    const ok = database === 'ok';
    return c.json({ ok, database, latencyMs: deps.now() - started }, ok ? 200 : 503);
  });
}
