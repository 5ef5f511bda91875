import { createClient } from '@libsql/client/web';
import { createApp } from './app.js';
import { parseConfig } from './config.js';
import { createDb } from './db/client.js';
import type { AppDeps } from './deps.js';
import { nullHub } from './hub/types.js';
import { createConsoleLogger } from './logger.js';

/**
 * Production entry on Cloudflare Workers: the same app, libSQL over HTTP (Turso), secrets from `env`.
 * The composition root only: everything it builds is passed into createApp.
 */
type WorkerEnv = Record<string, unknown>;

function stringEnv(env: WorkerEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === 'string') out[key] = value;
  return out;
}

let cached: { key: WorkerEnv; app: ReturnType<typeof createApp> } | undefined;

function appFor(env: WorkerEnv) {
  if (cached?.key === env) return cached.app;
  const config = parseConfig({ ...stringEnv(env), NODE_ENV: 'production' });
  if (!config.DATABASE_URL)
    throw new Error('DATABASE_URL is required on Workers (a libsql:// or https:// URL)');
  const client = createClient({ url: config.DATABASE_URL, authToken: config.DATABASE_AUTH_TOKEN });
  const deps: AppDeps = {
    config,
    db: createDb(client),
    hub: nullHub,
    logger: createConsoleLogger({ service: 'callerpop' }),
    now: () => Date.now(),
    newId: () => crypto.randomUUID(),
    fetch: (input, init) => fetch(input, init),
  };
  const app = createApp(deps);
  cached = { key: env, app };
  return app;
}

export default {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext) {
    return appFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerEnv>;
