import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { upgradeWebSocket } from '@hono/node-server';
import { type Client, createClient } from '@libsql/client';
import type { Config } from '../config.js';
import { createDb } from '../db/client.js';
import { applyMigrations } from '../db/migrate-node.js';
import { clientSqlRunner } from '../db/sql-runner.js';
import { type AppDeps, createAppDeps } from '../deps.js';
import type { AgentHub } from '../push/index.js';
import { createMemoryHub, replayChangesSince } from '../push/index.js';
import type { BackgroundWork } from '../shared/background.js';
import { createConsoleLogger, type Logger } from '../shared/logger.js';
import { createFileAssets } from './assets.js';
import { healStatementsAfterBusy } from './libsql-busy-heal.js';
import { openPreparedSqlRunner } from './prepared-sql.js';

/** Connections in the local file client's pool (each one configured below). */
const FILE_CONNECTIONS = 8;
/**
 * How long a write waits for the lock another writer holds, inside SQLite. On Node that wait is a
 * synchronous call: the whole process stops, webhook deadlines cannot fire, and a transaction of this
 * same process that holds the lock across an await (the Auth0 feed's) cannot finish, so the wait always
 * ran to its end (it was 5 s). Kept short; the webhook recorder retries a busy write asynchronously and
 * the fail-open path covers anything longer (a backfill's batch, its final sweep).
 */
export const BUSY_TIMEOUT_MS = 100;

/** The file a `file:` DATABASE_URL names (relative to the working directory), without its query. */
function filePath(url: string): string {
  const parsed = new URL(url, `file://${process.cwd()}/`);
  parsed.search = '';
  return fileURLToPath(parsed);
}

/** Opens the libSQL database named by the config (a local file by default) and applies migrations. */
export async function openDatabase(config: Config) {
  const url = config.DATABASE_URL ?? 'file:data/callerpop.db';
  if (url.startsWith('file:')) mkdirSync(dirname(filePath(url)), { recursive: true });
  const file = url.startsWith('file:');
  // A write that meets another writer's lock must not leave its connection unable to commit.
  if (file) healStatementsAfterBusy();
  const client = createClient({
    url,
    authToken: config.DATABASE_AUTH_TOKEN,
    ...(file ? { concurrency: FILE_CONNECTIONS } : {}),
  });
  // WAL lets the console read while webhooks write.
  if (file) {
    await client.execute('pragma journal_mode = wal');
    // busy_timeout and synchronous are per connection, and the client pools connections (it opens more
    // under concurrent requests). Borrow every pooled connection at once so each one gets them: a
    // connection left at synchronous=FULL fsyncs every commit (measured: webhook throughput ÷3).
    await Promise.all(
      Array.from({ length: FILE_CONNECTIONS }, () =>
        client.executeMultiple(`pragma busy_timeout = ${BUSY_TIMEOUT_MS}; pragma synchronous = normal;`),
      ),
    );
  }
  const db = createDb(client);
  await applyMigrations(db);
  // The hot path's statements on a connection of their own, prepared once (after the migrations: the
  // statements name their tables).
  const prepared = file
    ? openPreparedSqlRunner(filePath(url), { busyTimeoutMs: BUSY_TIMEOUT_MS })
    : undefined;
  return {
    client,
    db,
    sql: prepared ?? clientSqlRunner(client),
    close() {
      if (client.closed) return;
      prepared?.close();
      client.close();
    },
  };
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made one after another
 * sort one after another, so a new interaction's primary key lands at the right edge of its index
 * instead of on a random page of it (fewer pages dirtied, and written to the WAL, per commit). 74 random
 * bits keep an id as unguessable as it needs to be (screen-pop URLs carry it). Built on randomUUID
 * (Node batches its randomness; a getRandomValues call per id cost more than the rest of this): its
 * first 48 bits become the time, its version nibble 7; the variant bits of v4 and v7 are the same.
 */
export function uuidv7(now = Date.now()): string {
  const random = crypto.randomUUID();
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

/** How often the checkpointer copies the WAL back into the database file. */
const CHECKPOINT_EVERY_MS = 1000;
/**
 * Pages the WAL may reach before a committing connection checkpoints it itself, on the event loop: a
 * backstop for when the checkpointer thread falls behind (SQLite's default is 1,000).
 */
const BACKSTOP_AUTOCHECKPOINT_PAGES = 20_000;
/** A WAL file grown past this (a backstop checkpoint, a big backfill) is truncated back to it on reset. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

// CommonJS, run by `new Worker(…, { eval: true })`: the thread only opens the file and checkpoints.
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.libsql);
const db = new Database(workerData.path);
db.exec('pragma busy_timeout = 1000');
const checkpoint = db.prepare('pragma wal_checkpoint(passive)');
let failures = 0;
setInterval(() => {
  try {
    checkpoint.all();
    failures = 0;
  } catch (err) {
    if (++failures === 1) parentPort.postMessage(String(err && err.message));
  }
}, workerData.every);
`;

/**
 * Checkpoints the WAL from a worker thread. SQLite otherwise checkpoints inside whichever commit takes
 * the WAL past 1,000 pages, and on Node that commit is a synchronous call: every request waits behind
 * the copy and its fsync (measured 8–10 ms each under the webhook bench, hundreds of ms when the disk
 * is busy). A passive checkpoint from another connection never blocks the writers; the connections of
 * the pool keep a far higher autocheckpoint as a backstop. Returns the function that stops it.
 */
function startCheckpointer(url: string, client: Client, logger: Logger): () => Promise<void> {
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: {
      libsql: createRequire(import.meta.url).resolve('libsql'),
      path: filePath(url),
      every: CHECKPOINT_EVERY_MS,
    },
  });
  worker.unref();
  worker.on('message', (message: unknown) =>
    logger.warn('wal checkpoint failed (retried every second)', { error: String(message).slice(0, 200) }),
  );
  worker.on('error', (err) => logger.error('wal checkpointer stopped', { error: err.message }));
  const backstop = Promise.all(
    Array.from({ length: FILE_CONNECTIONS }, () =>
      client.executeMultiple(
        `pragma wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}; pragma journal_size_limit = ${JOURNAL_SIZE_LIMIT};`,
      ),
    ),
  );
  return async () => {
    await backstop.catch(() => undefined);
    await worker.terminate();
  };
}

/** The Node entry's dependencies: real database, in-process hub, console logs. */
export async function buildNodeDeps(
  config: Config,
  options: { hub?: AgentHub; logger?: Logger } = {},
): Promise<{ deps: AppDeps; background: BackgroundWork; close: () => void }> {
  const { client, db, sql, close: closeDatabase } = await openDatabase(config);
  const logger = options.logger ?? createConsoleLogger({ service: 'callerpop' });
  const url = config.DATABASE_URL ?? 'file:data/callerpop.db';
  const stopCheckpointer = url.startsWith('file:') ? startCheckpointer(url, client, logger) : undefined;
  // The in-process hub: sockets are upgraded by @hono/node-server (serve() needs the ws server, see node.ts).
  const hub =
    options.hub ??
    createMemoryHub({ upgradeWebSocket, logger, replay: (since) => replayChangesSince(db, config, since) });
  const deps = createAppDeps({
    config,
    db,
    sql,
    hub,
    logger,
    newId: () => uuidv7(),
    fetch: globalThis.fetch.bind(globalThis),
    assets: createFileAssets(),
  });
  return {
    deps,
    background: deps.background,
    close: () => {
      void stopCheckpointer?.();
      closeDatabase();
    },
  };
}
