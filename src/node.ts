import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp } from './app.js';
import { createLogReader, managementApiFrom } from './auth0-api/index.js';
import type { LogCatchUpDeps } from './auth0-feed/index.js';
import { createLogCatchUp, logDepsOf } from './auth0-feed/index.js';
import { agentConsoleLink, ConfigError } from './config.js';
import { buildNodeDeps } from './node/deps.js';
import { DEV_SECRETS_PATH, loadNodeConfig } from './node/env.js';
import type { MemoryHub } from './push/index.js';
import { runRetention } from './retention/index.js';
import { describeError } from './shared/logger.js';

/**
 * How long a stop waits for work already answered (texts and calls still being recorded, pushes) before
 * it closes the database. Longer than a healthy write by far; a database that is down for longer loses
 * what is still pending, and each one is logged.
 */
const SHUTDOWN_GRACE_MS = 10_000;

/** The embedded default: Node, a local libSQL file, an in-process hub. `npm start` runs this. */
async function main() {
  let loaded: ReturnType<typeof loadNodeConfig>;
  try {
    loaded = loadNodeConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`callerpop cannot start.\n${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const { config } = loaded;
  const built = await buildNodeDeps(config);
  const { background, close } = built;
  // One Management API client (token, rate limiter) for the process: the catch-up's timer and its route share it.
  const auth0Api = managementApiFrom(config, built.deps.fetch);
  const logCatchUp =
    auth0Api &&
    createLogCatchUp(logDepsOf(built.deps), createLogReader(auth0Api), {
      maxPages: config.LOG_CATCH_UP_PAGES,
    });
  const deps: LogCatchUpDeps = { ...built.deps, logCatchUp };
  const app = createApp(deps);
  // noServer: @hono/node-server routes upgrade requests through the app (/agent/socket) itself.
  const websocket = { server: new WebSocketServer({ noServer: true }) };
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST, websocket }, (info) => {
    const local = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${info.port}`;
    const lines = [
      '',
      `callerpop is listening on ${config.HOST}:${info.port} (database: ${config.DATABASE_URL})`,
      '',
      `  Agent console:   ${agentConsoleLink(config, local)}`,
      `  Health:          ${local}/healthz`,
      `  Twilio webhooks: ${config.PUBLIC_BASE_URL}/twilio/voice and ${config.PUBLIC_BASE_URL}/twilio/sms`,
      '',
      '  Try it:          npm run seed:demo            (a small believable index)',
      '                   npm run simulate -- call +14155550100',
      '                   npm run simulate -- sms +14155550100 "Where is my order?"',
      '',
      `  Auth0 log catch-up: ${
        !logCatchUp
          ? 'off (set AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET to read GET /api/v2/logs)'
          : config.LOG_CATCH_UP_MINUTES > 0
            ? `every ${config.LOG_CATCH_UP_MINUTES} min, paced as AUTH0_PLAN=${config.AUTH0_PLAN}`
            : 'on demand only (POST /api/auth0/log-catch-up)'
      }`,
    ];
    if (loaded.usingDevSecrets) {
      lines.push(
        '',
        `  Local development secrets: ${DEV_SECRETS_PATH}${loaded.devSecretsCreated ? ' (created now)' : ''}`,
      );
    }
    console.log(lines.join('\n'));
  });

  // Retention, as the Worker's hourly Cron Trigger does it: expired calls and texts are personal data.
  const purge = () =>
    runRetention(deps).catch((err: unknown) =>
      deps.logger.error('retention failed', { error: describeError(err) }),
    );
  // First run a minute after start, so the banner stays the first thing printed.
  setTimeout(purge, 60_000).unref();
  const retentionTimer = setInterval(purge, 60 * 60 * 1000);
  retentionTimer.unref();

  // The log catch-up, as the Worker's Cron Trigger runs it: what the Log Stream missed, from GET /api/v2/logs.
  let catchUpTimer: ReturnType<typeof setInterval> | undefined;
  if (logCatchUp && config.LOG_CATCH_UP_MINUTES > 0) {
    const catchUp = () =>
      logCatchUp
        .run({ trigger: 'timer' })
        .catch((err: unknown) =>
          deps.logger.error('auth0 log catch-up failed', { error: describeError(err) }),
        );
    setTimeout(catchUp, 90_000).unref();
    catchUpTimer = setInterval(catchUp, config.LOG_CATCH_UP_MINUTES * 60_000);
    catchUpTimer.unref();
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // A backstop: whatever hangs below, the process still ends.
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 5000).unref();
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    clearInterval(retentionTimer);
    clearInterval(catchUpTimer);
    // Open agent sockets would hold server.close() until the deadline: say goodbye (1001) first.
    const hub = deps.hub as Partial<MemoryHub>;
    hub.disconnectAll?.();
    // Stop accepting; the requests in flight finish (and hand their background work to the tracker).
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      setTimeout(resolve, SHUTDOWN_GRACE_MS).unref();
    });
    // Texts are answered before they are recorded: write what waits in the batch window now, then wait
    // (bounded) for every write, retry and push the answered requests left running.
    deps.recorder.drain();
    const done = await background.settle(Math.max(0, deadline - Date.now()));
    if (!done) {
      const unfinished = [...deps.retries.unfinished];
      deps.logger.error('stopping with background work unfinished', {
        signal,
        tasks: background.size,
        retries: unfinished.length,
      });
      for (const { gaveUp, context } of unfinished)
        deps.logger.error(`${gaveUp.replace(/:.*$/, '')}: stopped before it was`, context);
    }
    close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

await main();
