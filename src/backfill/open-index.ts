import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { createDb, type Db } from '../db/client.js';
import { applyMigrations } from '../db/migrate-node.js';
import type { CliOptions } from './cli-args.js';

/** Opens the same database `npm start` uses (or DATABASE_URL), with migrations applied. */
export async function openIndex(
  options: CliOptions,
  dataDir: string,
): Promise<{ db: Db; close: () => void }> {
  const url = options.databaseUrl ?? `file:${resolve(dataDir, 'callerpop.db')}`;
  if (url.startsWith('file:')) mkdirSync(dataDir, { recursive: true });
  // One connection: the per-connection pragmas below then hold for every batch (the pool would open
  // fresh connections with synchronous=FULL), and the import is sequential anyway.
  const client = createClient({ url, authToken: options.databaseAuthToken, concurrency: 1 });
  if (url.startsWith('file:')) {
    await client.execute('pragma journal_mode = wal');
    await client.execute('pragma busy_timeout = 5000');
    await client.execute('pragma synchronous = normal');
    await client.execute('pragma cache_size = -16384');
  }
  const db = createDb(client);
  await applyMigrations(db);
  return { db, close: () => client.close() };
}
