import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp } from './app.js';
import { agentConsoleLink, ConfigError } from './config.js';
import type { MemoryHub } from './hub/memory.js';
import { describeError } from './logger.js';
import { buildNodeDeps } from './node/deps.js';
import { DEV_SECRETS_PATH, loadNodeConfig } from './node/env.js';
import { runRetention } from './services/retention.js';

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
  const { deps, close } = await buildNodeDeps(config);
  const app = createApp(deps);
  // noServer: @hono/node-server routes upgrade requests through the app (/agent/socket) itself.
  const websocket = { server: new WebSocketServer({ noServer: true }) };
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '0.0.0.0', websocket }, (info) => {
    const local = `http://localhost:${info.port}`;
    const lines = [
      '',
      `callerpop is listening on ${local} (database: ${config.DATABASE_URL})`,
      '',
      `  Agent console:   ${agentConsoleLink(config, local)}`,
      `  Health:          ${local}/healthz`,
      `  Twilio webhooks: ${config.PUBLIC_BASE_URL}/twilio/voice and ${config.PUBLIC_BASE_URL}/twilio/sms`,
      '',
      '  Try it:          npm run seed:demo            (a small believable index)',
      '                   npm run simulate -- call +14155550100',
      '                   npm run simulate -- sms +14155550100 "Where is my order?"',
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

  const shutdown = () => {
    clearInterval(retentionTimer);
    // Open agent sockets would hold server.close() until the forced exit: say goodbye (1001) first.
    const hub = deps.hub as Partial<MemoryHub>;
    hub.disconnectAll?.();
    server.close(() => {
      close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

await main();
