/**
 * A local libSQL server for `wrangler dev` (`npm run dev:libsql`): the Hrana-over-HTTP protocol Turso
 * speaks, on loopback, on a database file, migrated. No sqld is packaged for npm or Debian, so this serves
 * the protocol from the test tooling on top of the real libSQL engine (see test/support/libsql-http-server.ts).
 *
 *   npm run dev:libsql                     # http://127.0.0.1:8080, data in data/worker-dev.db
 *   LIBSQL_PORT=9000 LIBSQL_FILE=data/x.db npm run dev:libsql
 *
 * Then point the Worker at it: DATABASE_URL=http://127.0.0.1:8080 (no token needed on loopback).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import { createDb } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate-node.js';
import { type LibsqlHttpServer, startLibsqlHttpServer } from '../test/support/libsql-http-server.js';

export interface DevLibsqlOptions {
  /** Database file; `:memory:` for a throwaway one. */
  file?: string;
  port?: number;
  authToken?: string;
}

/** Starts the server and applies the committed migrations through its HTTP endpoint, as db:migrate does. */
export async function startDevLibsql(options: DevLibsqlOptions = {}): Promise<LibsqlHttpServer> {
  const file = options.file ?? 'data/worker-dev.db';
  let url = ':memory:';
  if (file !== ':memory:') {
    const path = resolve(file);
    mkdirSync(dirname(path), { recursive: true });
    url = `file:${path}`;
  }
  const server = await startLibsqlHttpServer({ url, port: options.port ?? 0, authToken: options.authToken });
  const client = createClient({ url: server.url, authToken: options.authToken });
  try {
    await applyMigrations(createDb(client));
  } catch (err) {
    await server.close();
    throw err;
  } finally {
    client.close();
  }
  return server;
}

async function main() {
  const port = Number(process.env.LIBSQL_PORT ?? 8080);
  const file = process.env.LIBSQL_FILE ?? 'data/worker-dev.db';
  const server = await startDevLibsql({ file, port });
  console.log(`libSQL (Hrana over HTTP) on ${server.url}, database ${file}, migrations applied.`);
  console.log(`Use it from the Worker: DATABASE_URL=${server.url} npm run dev:worker`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
