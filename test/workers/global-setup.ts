import { createClient } from '@libsql/client';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client.js';
import { applyMigrations } from '../../src/db/migrate-node.js';
import { guardianEvent, nextLogId } from '../support/auth0-log-fixtures.js';
import { startFakeAuth0 } from '../support/fake-auth0.js';
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
    /** The Management API stand-in (GET /api/v2/logs) the log catch-up's Cron Trigger reads. */
    auth0: { url: string; domain: string; clientId: string; clientSecret: string; logIds: string[] };
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
  // A tenant whose log holds a checkpoint and, after it, two MFA enrollments the stream never delivered.
  const logIds = [nextLogId(), nextLogId(), nextLogId()];
  const auth0 = await startFakeAuth0({
    logs: [
      { log_id: logIds[0], type: 's', date: new Date().toISOString() },
      guardianEvent('gd_enrollment_complete', {
        logId: logIds[1],
        userId: 'auth0|workers-dave',
        phone: '+14155550188',
        enrollment: true,
      }),
      guardianEvent('gd_enrollment_complete', {
        logId: logIds[2],
        userId: 'auth0|workers-erin',
        phone: '+14155550189',
        enrollment: true,
      }),
    ],
  });
  project.provide('auth0', {
    url: auth0.url,
    domain: auth0.domain,
    clientId: auth0.clientId,
    clientSecret: auth0.clientSecret,
    logIds,
  });
  return async () => {
    await auth0.close();
    await server.close();
  };
}
