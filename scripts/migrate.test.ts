import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LibsqlHttpServer, startLibsqlHttpServer } from '../test/support/libsql-http-server.js';

/** The script as operators run it against Turso, here against the loopback libSQL-protocol server. */
const root = join(import.meta.dirname, '..');
const run = (env: Record<string, string>) =>
  promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['scripts/migrate.ts'], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      DATABASE_URL: env.DATABASE_URL ?? '',
      DATABASE_AUTH_TOKEN: env.DATABASE_AUTH_TOKEN ?? '',
    },
  });

let server: LibsqlHttpServer;
beforeAll(async () => {
  server = await startLibsqlHttpServer({ authToken: 'migrate-test-token' });
});
afterAll(() => server.close());

describe('npm run db:migrate', () => {
  it('creates the schema over HTTP, then finds it up to date', async () => {
    const env = { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: 'migrate-test-token' };
    const first = await run(env);
    expect(first.stdout).toMatch(/applied (\d+) migrations? to http:\/\/127\.0\.0\.1:\d+ \(\1 in total\)/);
    const tables = await server.client.execute("select name from sqlite_master where type = 'table'");
    expect(tables.rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['accounts', 'phone_links', 'interactions', 'processed_events']),
    );
    expect((await run(env)).stdout).toMatch(/is up to date \(\d+ migrations?\)/);
  });

  it('names the missing variable instead of guessing a database', async () => {
    await expect(run({})).rejects.toMatchObject({
      stderr: expect.stringContaining('DATABASE_URL is required'),
    });
    await expect(run({ DATABASE_URL: 'libsql://callerpop-acme.turso.io' })).rejects.toMatchObject({
      stderr: expect.stringContaining('DATABASE_AUTH_TOKEN is required'),
    });
  });
});
