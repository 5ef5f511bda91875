import type { LogCatchUp } from './auth0-feed/index.js';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { AgentHub } from './push/index.js';
import type { Logger } from './shared/logger.js';

/** Sends through Twilio's REST API (Messages, Calls). Built by the entry; replaced by nothing in tests. */
export interface TwilioRest {
  sendSms(input: { to: string; body: string }): Promise<{ sid: string }>;
  /** Places a call that plays the given TwiML (used to read a code aloud). */
  startCall(input: { to: string; twiml: string }): Promise<{ sid: string }>;
}

/** Work a request leaves running after its response (recording retries, pushes). */
export interface BackgroundWork {
  track(task: Promise<unknown>): void;
}

/**
 * Files built into dist/assets by scripts/build-assets.mjs (the console's browser scripts): read from disk on
 * Node, from the ASSETS binding on Workers. null when the file is not there (the build did not run).
 */
export interface StaticAssets {
  text(path: string): Promise<string | null>;
}

/** Everything the app needs from the outside world; the entries build it, tests build it with real parts. */
export interface AppDeps {
  config: Config;
  db: Db;
  hub: AgentHub;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Random id for interactions and requests. */
  newId: () => string;
  /** Outbound HTTP (Twilio REST, Auth0); injectable so tests can point it at loopback servers. */
  fetch: typeof fetch;
  /** Twilio REST client (Messages, Calls); built by the entries, and by the test context. */
  twilio: TwilioRest;
  assets: StaticAssets;
  /** The Auth0 log catch-up (its timer, cron and route), when the Management API is configured. */
  logCatchUp?: LogCatchUp;
  /**
   * Where background work is also handed, so the process can wait for it before it stops (Node). On
   * Workers the request's waitUntil keeps it alive instead.
   */
  background?: BackgroundWork;
  /**
   * How long work may run after its response, in ms, where the runtime cuts it off (Workers: waitUntil
   * ends 30 s after the response); absent where the process keeps running (Node). Background retries are
   * cut to fit inside it, and webhooks are then grouped per request, not across requests.
   */
  backgroundBudgetMs?: number;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    logger: Logger;
  };
};
