import { migrate } from 'drizzle-orm/libsql/migrator';
import type { Db } from './client.js';

/** Applies the committed drizzle-kit migrations (Node only: it reads `drizzle/` from disk). */
export async function applyMigrations(
  db: Db,
  migrationsFolder = new URL('../../drizzle', import.meta.url).pathname,
) {
  await migrate(db, { migrationsFolder });
}
