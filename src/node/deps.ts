import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { upgradeWebSocket } from '@hono/node-server';
import { createClient } from '@libsql/client';
import type { Config } from '../config.js';
import { createDb } from '../db/client.js';
import { applyMigrations } from '../db/migrate-node.js';
import type { AppDeps } from '../deps.js';
import { createMemoryHub } from '../hub/memory.js';
import type { AgentHub } from '../hub/types.js';
import { createConsoleLogger, type Logger } from '../logger.js';
import { replayChangesSince } from '../services/agent-feed.js';

/** Opens the libSQL database named by the config (a local file by default) and applies migrations. */
export async function openDatabase(config: Config) {
  const url = config.DATABASE_URL ?? 'file:data/callerpop.db';
  if (url.startsWith('file:'))
    mkdirSync(dirname(fileURLToPath(new URL(url, `file://${process.cwd()}/`))), { recursive: true });
  const client = createClient({ url, authToken: config.DATABASE_AUTH_TOKEN });
  // WAL lets the console read while webhooks write; busy_timeout rides out a concurrent writer.
  if (url.startsWith('file:')) {
    await client.execute('pragma journal_mode = wal');
    await client.execute('pragma busy_timeout = 5000');
    await client.execute('pragma synchronous = normal');
  }
  const db = createDb(client);
  await applyMigrations(db);
  return { client, db };
}

/** The Node entry's dependencies: real database, in-process hub, console logs. */
export async function buildNodeDeps(
  config: Config,
  options: { hub?: AgentHub; logger?: Logger } = {},
): Promise<{ deps: AppDeps; close: () => void }> {
  const { client, db } = await openDatabase(config);
  const logger = options.logger ?? createConsoleLogger({ service: 'callerpop' });
  // The in-process hub: sockets are upgraded by @hono/node-server (serve() needs the ws server, see node.ts).
  const hub =
    options.hub ??
    createMemoryHub({ upgradeWebSocket, logger, replay: (since) => replayChangesSince(db, config, since) });
  const deps: AppDeps = {
    config,
    db,
    hub,
    logger,
    now: () => Date.now(),
    newId: () => crypto.randomUUID(),
    fetch: globalThis.fetch.bind(globalThis),
  };
  return { deps, close: () => client.close() };
}
