import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createClient } from '@libsql/client/web';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../src/worker.js';
import { worker as request } from './helpers.js';

/** The composition root: libSQL over HTTP, configuration errors, the retention Cron Trigger. */

const db = createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN });
afterAll(() => db.close());

const DAY = 24 * 60 * 60 * 1000;

async function insertInteraction(sid: string, createdAt: number) {
  await db.execute({
    sql: `insert into interactions (id, channel, twilio_sid, raw_from, e164, status, created_at, updated_at)
          values (?, 'voice', ?, '+14155550100', '+14155550100', 'completed', ?, ?)`,
    args: [`id-${sid}`, sid, createdAt, createdAt],
  });
}

async function exists(sid: string): Promise<boolean> {
  const rs = await db.execute({ sql: 'select 1 from interactions where twilio_sid = ?', args: [sid] });
  return rs.rows.length > 0;
}

describe('the Worker entry', () => {
  it('serves the app over libSQL-over-HTTP', async () => {
    const res = await request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: 'ok' });
  });

  it('names a missing secret instead of failing obscurely', async () => {
    const { DATABASE_URL: _url, TWILIO_AUTH_TOKEN: _token, ...partial } = env;
    const res = await worker.fetch(
      new Request('https://callerpop.workers.test/healthz'),
      partial as unknown as Env,
      createExecutionContext(),
    );
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('misconfigured');
    expect(error.message).toContain('DATABASE_URL is required');
    expect(error.message).toContain('TWILIO_AUTH_TOKEN is required');
    expect(error.message).not.toContain(env.DATABASE_AUTH_TOKEN);
  });

  it('refuses a remote database without a token, and a file: URL', async () => {
    for (const [url, problem] of [
      ['libsql://callerpop-acme.turso.io', 'DATABASE_AUTH_TOKEN is required'],
      ['file:data/callerpop.db', 'DATABASE_URL must be a libsql://'],
    ] as const) {
      const res = await worker.fetch(
        new Request('https://callerpop.workers.test/healthz'),
        { ...env, DATABASE_URL: url, DATABASE_AUTH_TOKEN: '' },
        createExecutionContext(),
      );
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(problem);
    }
  });

  it('deletes expired interactions on the Cron Trigger', async () => {
    const now = Date.now();
    await insertInteraction(
      'CAexpired0000000000000000000000001',
      now - (Number(env.RETENTION_DAYS) + 1) * DAY,
    );
    await insertInteraction('CAkept00000000000000000000000000001', now - DAY);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '17 * * * *', scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await exists('CAexpired0000000000000000000000001')).toBe(false);
    expect(await exists('CAkept00000000000000000000000000001')).toBe(true);
  });
});
