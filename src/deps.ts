import { type ManagementApi, managementApiFrom } from './auth0-api/index.js';
import type { LogCatchUp } from './auth0-feed/index.js';
import type { Config } from './config.js';
import { agentRoleCheckerFrom, type RoleChecker } from './console/index.js';
import type { Db } from './db/client.js';
import { clientSqlRunner, type SqlRunner } from './db/sql-runner.js';
import { createInteractionRecorder, type InteractionRecorder } from './inbound/index.js';
import type { AgentHub } from './push/index.js';
import { type BackgroundWork, createBackgroundWork } from './shared/background.js';
import type { Logger } from './shared/logger.js';
import { createRetries, type Retries } from './shared/retry.js';
import { createTwilioRest, type TwilioRest } from './twilio/index.js';

/**
 * Files built into dist/assets by scripts/build-assets.mjs (the console's browser scripts): read from disk on
 * Node, from the ASSETS binding on Workers. null when the file is not there (the build did not run).
 */
export interface StaticAssets {
  text(path: string): Promise<string | null>;
}

/** Everything the app needs from the outside world, and the state that belongs to one running app. */
export interface AppDeps {
  config: Config;
  db: Db;
  /** The hot path's SQL runner: the same database, prepared statements on the embedded Node one. */
  sql: SqlRunner;
  hub: AgentHub;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Random id for interactions and requests. */
  newId: () => string;
  /** Outbound HTTP (Twilio REST, Auth0); injectable so tests can point it at loopback servers. */
  fetch: typeof fetch;
  /** Twilio REST client (Messages, Calls). */
  twilio: TwilioRest;
  assets: StaticAssets;
  /** The Auth0 log catch-up (its timer, cron and route), when the Management API is configured. */
  logCatchUp?: LogCatchUp;
  /** The Management API client (token, rate limiter), when AUTH0_DOMAIN and the M2M credentials are set. */
  management?: ManagementApi;
  /** Asks the identity provider an OIDC agent's roles again; absent where it cannot be asked. */
  agentRoles?: RoleChecker;
  /** Work requests leave running after their answers; a Node shutdown waits for it. */
  background: BackgroundWork;
  /** Background retries: their budgets and what is still under way (a shutdown reports it). */
  retries: Retries;
  /** The webhooks' group commit: what waits in its window (a shutdown drains it). */
  recorder: InteractionRecorder;
  /**
   * How long work may run after its response, in ms, where the runtime cuts it off (Workers: waitUntil
   * ends 30 s after the response); absent where the process keeps running (Node). Background retries are
   * cut to fit inside it, and webhooks are then grouped per request, not across requests.
   */
  backgroundBudgetMs?: number;
}

/** What an entry (or a test) supplies; everything else has one default, made here. */
export type AppDepsParts = Pick<AppDeps, 'config' | 'db' | 'hub' | 'logger' | 'assets'> &
  Partial<Omit<AppDeps, 'config' | 'db' | 'hub' | 'logger' | 'assets'>>;

/**
 * The one place AppDeps is assembled, for Node, Workers and tests alike: the clock, ids, outbound HTTP and the
 * Twilio client default to the real ones, and the state of one running app (background work, retry budgets,
 * the recorder's batch) is made fresh for it.
 */
export function createAppDeps(parts: AppDepsParts): AppDeps {
  const fetchImpl = parts.fetch ?? ((input, init) => fetch(input, init));
  const backgroundBudgetMs = parts.backgroundBudgetMs;
  const sql = parts.sql ?? clientSqlRunner(parts.db.$client);
  const management = parts.management ?? managementApiFrom(parts.config, fetchImpl);
  return {
    now: () => Date.now(),
    newId: () => crypto.randomUUID(),
    ...parts,
    fetch: fetchImpl,
    twilio: parts.twilio ?? createTwilioRest({ config: parts.config, fetch: fetchImpl }),
    management,
    agentRoles: 'agentRoles' in parts ? parts.agentRoles : agentRoleCheckerFrom(parts.config, management),
    sql,
    background: parts.background ?? createBackgroundWork(),
    retries: parts.retries ?? createRetries(),
    // Grouped across requests only where the process outlives them (Node): on Workers each request's
    // waitUntil must cover the write its record is in.
    recorder: parts.recorder ?? createInteractionRecorder(sql, { shared: backgroundBudgetMs === undefined }),
  };
}

export type AppEnv = {
  Variables: {
    requestId: string;
    logger: Logger;
  };
};
