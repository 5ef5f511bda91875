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

/** Connections in the local file client's pool (each one configured below). */
const FILE_CONNECTIONS = 8;

/** Opens the libSQL database named by the config (a local file by default) and applies migrations. */
export async function openDatabase(config: Config) {
  const url = config.DATABASE_URL ?? 'file:data/callerpop.db';
  if (url.startsWith('file:'))
    mkdirSync(dirname(fileURLToPath(new URL(url, `file://${process.cwd()}/`))), { recursive: true });
  const file = url.startsWith('file:');
  const client = createClient({
    url,
    authToken: config.DATABASE_AUTH_TOKEN,
    ...(file ? { concurrency: FILE_CONNECTIONS } : {}),
  });
  // WAL lets the console read while webhooks write; busy_timeout rides out a concurrent writer.
  if (file) {
    await client.execute('pragma journal_mode = wal');
    // busy_timeout and synchronous are per connection, and the client pools connections (it opens more
    // under concurrent requests). Borrow every pooled connection at once so each one gets them: a
    // connection left at synchronous=FULL fsyncs every commit (measured: webhook throughput ÷3).
    await Promise.all(
      Array.from({ length: FILE_CONNECTIONS }, () =>
        client.executeMultiple('pragma busy_timeout = 5000; pragma synchronous = normal;'),
      ),
    );
  }
  const db = createDb(client);
  await applyMigrations(db);
  return { client, db };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made one after another
 * sort one after another, so a new interaction's primary key lands at the right edge of its index
 * instead of on a random page of it (fewer pages dirtied, and written to the WAL, per commit). 74 random
 * bits keep an id as unguessable as it needs to be (screen-pop URLs carry it).
 */
export function uuidv7(now = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = Array.from(b, (x) => HEX[x] as string);
  return `${h.slice(0, 4).join('')}-${h.slice(4, 6).join('')}-${h.slice(6, 8).join('')}-${h.slice(8, 10).join('')}-${h.slice(10).join('')}`;
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
    newId: () => uuidv7(),
    fetch: globalThis.fetch.bind(globalThis),
  };
  return { deps, close: () => client.close() };
}
