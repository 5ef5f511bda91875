import { createClient } from '@libsql/client';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client.js';
import { applyMigrations } from '../../src/db/migrate-node.js';
import { startLibsqlHttpServer } from '../support/libsql-http-server.js';

/**
 * Node side of the workerd suite: a libSQL server speaking Turso's protocol (Hrana over HTTP) on loopback,
 * migrated the way `npm run db:migrate` migrates Turso (drizzle's migrator through the HTTP client), and
 * its URL handed to the Worker as DATABASE_URL.
 */
export const DATABASE_AUTH_TOKEN = 'workers-suite-libsql-token';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startLibsqlHttpServer({ authToken: DATABASE_AUTH_TOKEN });
  const client = createClient({ url: server.url, authToken: DATABASE_AUTH_TOKEN });
  try {
    await applyMigrations(createDb(client));
  } finally {
    client.close();
  }
  project.provide('databaseUrl', server.url);
  return async () => {
    await server.close();
  };
}
