import type { Client } from '@libsql/client/web';
import type { LibSQLDatabase } from 'drizzle-orm/libsql/driver-core';
import { drizzle } from 'drizzle-orm/libsql/web';
import * as schema from './schema.js';

export type Db = LibSQLDatabase<typeof schema> & { $client: Client };
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database or a transaction on it: writes that may run inside a caller's transaction take this. */
export type Writer = Db | Tx;

/**
 * Wraps a libSQL client made by the entry (`@libsql/client` on Node, `@libsql/client/web` on Workers).
 * The web flavour of drizzle's wrapper is used because it pulls in no native code; given a client it
 * only wraps it, so the Node client works through it unchanged.
 */
export function createDb(client: Client): Db {
  return drizzle(client, { schema });
}
