import { createClient } from '@libsql/client/web';
import { createLogReader, managementApiFrom } from '../auth0-api/index.js';
import { createLogCatchUp, type LogCatchUp, logDepsOf } from '../auth0-feed/index.js';
import { type Config, ConfigError, type ConfigInput, parseConfig } from '../config.js';
import { createDb } from '../db/client.js';
import { type AppDeps, createAppDeps } from '../deps.js';
import type { AgentHub } from '../push/index.js';
import { createConsoleLogger, type Logger } from '../shared/logger.js';
import { createBindingAssets } from './assets.js';
import type { AssetsFetcher } from './phone-metadata.js';

/**
 * Builds the app's dependencies from a Worker's `env` (vars from wrangler.toml, secrets from
 * `wrangler secret put`). Shared by the fetch/scheduled handlers and the hub's Durable Object; free of
 * Workers-only APIs so the Node type-check covers it too.
 */

/** `http://127.0.0.1…` (a local libSQL server for `wrangler dev` and tests) needs no token; Turso does. */
const LOCAL_DATABASE = /^(?:https?|wss?):\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?(?:\/|$)/;
const REMOTE_SCHEMES = /^(?:libsql|https?|wss?):\/\//;

/** Only the string values: bindings such as the Durable Object namespace are not configuration. */
export function varsFrom(env: object): ConfigInput {
  const vars: ConfigInput = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === 'string') vars[key] = value;
  return vars;
}

/** Parses the config the Worker way: production rules, a remote libSQL URL, a token unless it is local. */
export function loadWorkerConfig(env: object): Config {
  const vars = varsFrom(env);
  const problems: string[] = [];
  let config: Config | undefined;
  try {
    config = parseConfig({ ...vars, NODE_ENV: 'production' });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  const url = vars.DATABASE_URL?.trim();
  if (!url) problems.push('DATABASE_URL is required (the Turso database: libsql://NAME-ORG.turso.io)');
  else if (!REMOTE_SCHEMES.test(url))
    problems.push(
      'DATABASE_URL must be a libsql://, https:// or wss:// URL on Workers (file: needs the Node entry)',
    );
  else if (!LOCAL_DATABASE.test(url) && !vars.DATABASE_AUTH_TOKEN?.trim())
    problems.push('DATABASE_AUTH_TOKEN is required for a remote database (turso db tokens create NAME)');
  if (problems.length > 0 || !config) throw new ConfigError(problems);
  return config;
}

/**
 * Background work's budget on Workers: waitUntil is cancelled 30 s after the response (Cloudflare's
 * documented limit); 5 s are left for the last try itself to finish.
 */
export const WORKER_BACKGROUND_BUDGET_MS = 25_000;

export interface WorkerDeps extends AppDeps {
  /** The Auth0 log catch-up (its Cron Trigger and its route), when the Management API is configured. */
  logCatchUp?: LogCatchUp;
  close(): void;
}

/** Everything but the hub, which differs between the Worker (a stub) and the object itself. */
export function buildWorkerDeps(
  config: Config,
  options: { hub: AgentHub; assets?: AssetsFetcher; logger?: Logger; fetch?: typeof fetch },
): WorkerDeps {
  const client = createClient({ url: config.DATABASE_URL ?? '', authToken: config.DATABASE_AUTH_TOKEN });
  // Bound once: workerd throws "Illegal invocation" when the global fetch is called detached.
  const outbound = options.fetch ?? ((input, init) => fetch(input, init));
  const deps: WorkerDeps = {
    ...createAppDeps({
      config,
      db: createDb(client),
      hub: options.hub,
      logger: options.logger ?? createConsoleLogger({ service: 'callerpop', runtime: 'workers' }),
      fetch: outbound,
      assets: createBindingAssets(options.assets),
      backgroundBudgetMs: WORKER_BACKGROUND_BUDGET_MS,
    }),
    close: () => client.close(),
  };
  // One Management API client per isolate: the cron's runs and the route's share its token and rate limiter.
  const auth0Api = managementApiFrom(config, outbound);
  if (auth0Api)
    deps.logCatchUp = createLogCatchUp(logDepsOf(deps), createLogReader(auth0Api), {
      maxPages: config.LOG_CATCH_UP_PAGES,
    });
  return deps;
}
