import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

/** One round trip to the database (`select 1`): resolves when it answered, rejects when it could not. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.run(sql`select 1`);
}
