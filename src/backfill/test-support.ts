import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createClient } from '@libsql/client';
import { parseCli } from './cli-args.js';
import { type RunResult, runBackfill } from './run-backfill.js';

/** A temp folder with its own index database; the backfill runs in-process against it. */
export function backfillSandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-backfill-'));
  const dbUrl = `file:${join(dir, 'index.db')}`;
  return {
    dir,
    dbUrl,
    /** Runs `npm run backfill -- …args` in this process; returns the result and everything it printed. */
    async run(
      args: string[],
      env: Record<string, string> = {},
      signal?: AbortSignal,
    ): Promise<RunResult & { output: string }> {
      const options = parseCli(args, { DATABASE_URL: dbUrl, ...env });
      if (options === 'help') throw new Error('help');
      const out = new PassThrough();
      let output = '';
      out.on('data', (d) => {
        output += d;
      });
      const result = await runBackfill(options, { out, tty: false, dataDir: dir, signal });
      return { ...result, output };
    },
    async query<T = Record<string, unknown>>(sql: string, args: (string | number)[] = []): Promise<T[]> {
      const client = createClient({ url: dbUrl });
      try {
        const rs = await client.execute({ sql, args });
        return rs.rows.map((r) => ({ ...r }) as T);
      } finally {
        client.close();
      }
    },
    /** Live links as "user source e164 verified", sorted: easy to compare whole. */
    async links(): Promise<string[]> {
      const rows = await this.query<{ user_id: string; source: string; e164: string; verified: number }>(
        'select user_id, source, e164, verified from phone_links where removed_at is null',
      );
      return rows
        .map(
          (r) => `${r.user_id} ${r.source} ${r.e164} ${Number(r.verified) === 1 ? 'verified' : 'unverified'}`,
        )
        .sort();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type Sandbox = ReturnType<typeof backfillSandbox>;

export const db = (id: string, extra: Record<string, unknown> = {}) => ({
  user_id: `auth0|${id}`,
  email: `${id}@example.com`,
  name: `User ${id}`,
  identities: [
    { connection: 'Username-Password-Authentication', provider: 'auth0', user_id: id, isSocial: false },
  ],
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-06-01T00:00:00.000Z',
  ...extra,
});

export const sms = (id: string, phone: string, extra: Record<string, unknown> = {}) => ({
  user_id: `sms|${id}`,
  phone_number: phone,
  phone_verified: true,
  identities: [{ connection: 'sms', provider: 'sms', user_id: id, isSocial: false }],
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-06-01T00:00:00.000Z',
  ...extra,
});

export const ndjson = (users: unknown[]) =>
  users.map((u) => (typeof u === 'string' ? u : JSON.stringify(u))).join('\n');
