/**
 * `npm run db:migrate`: applies the committed drizzle migrations (drizzle/) to DATABASE_URL — the Turso
 * database the Worker uses (`libsql://NAME-ORG.turso.io` + DATABASE_AUTH_TOKEN), or any libSQL URL.
 * Drizzle's migrator records what it applied in `__drizzle_migrations`, so running it again is a no-op.
 *
 *   DATABASE_URL=libsql://callerpop-acme.turso.io DATABASE_AUTH_TOKEN=eyJ… npm run db:migrate
 *
 * (The Node entry migrates its own database on start; this script is for Turso.)
 */
import { existsSync } from 'node:fs';
import { createClient } from '@libsql/client';
import { createDb } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate-node.js';

function fail(message: string): never {
  console.error(`db:migrate: ${message}`);
  process.exit(1);
}

export async function migrateDatabase(url: string, authToken: string | undefined) {
  const client = createClient({ url, authToken });
  try {
    const before = await appliedCount(client);
    await applyMigrations(createDb(client));
    const after = await appliedCount(client);
    return { applied: after - before, total: after };
  } finally {
    client.close();
  }
}

async function appliedCount(client: ReturnType<typeof createClient>): Promise<number> {
  const table = await client.execute(
    "select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'",
  );
  if (table.rows.length === 0) return 0;
  const rows = await client.execute('select count(*) as n from __drizzle_migrations');
  return Number(rows.rows[0]?.n ?? 0);
}

async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const url = process.env.DATABASE_URL?.trim();
  const authToken = process.env.DATABASE_AUTH_TOKEN?.trim() || undefined;
  if (!url) fail('DATABASE_URL is required (e.g. libsql://callerpop-acme.turso.io, from `turso db show`)');
  if (/^libsql:\/\/|\.turso\.io/.test(url) && !authToken)
    fail('DATABASE_AUTH_TOKEN is required for Turso (`turso db tokens create NAME`)');
  const where = url.replace(/\/\/[^@/]*@/, '//');
  const { applied, total } = await migrateDatabase(url, authToken);
  console.log(
    applied === 0
      ? `db:migrate: ${where} is up to date (${total} migration${total === 1 ? '' : 's'})`
      : `db:migrate: applied ${applied} migration${applied === 1 ? '' : 's'} to ${where} (${total} in total)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
}
