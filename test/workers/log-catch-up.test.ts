import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createClient } from '@libsql/client/web';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LOG_CATCH_UP_CRON } from '../../src/worker/crons.js';
import worker from '../../src/worker.js';

/**
 * The Auth0 log catch-up on its Cron Trigger inside workerd: the entry dispatches on `controller.cron`, the
 * shared Management API client (the SDK's LogsClient, the rate limiter) reads the loopback stand-in's
 * GET /api/v2/logs from the cursor, and the events are applied over libSQL-over-HTTP.
 */

const auth0 = inject('auth0');
const db = createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN });
afterAll(() => db.close());

const configured = {
  ...env,
  AUTH0_DOMAIN: auth0.domain,
  AUTH0_CLIENT_ID: auth0.clientId,
  AUTH0_CLIENT_SECRET: auth0.clientSecret,
  AUTH0_API_BASE_URL: auth0.url,
  AUTH0_PLAN: 'enterprise',
} as unknown as Env;

async function scheduled(cron: string, environment: Env) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), environment, ctx);
  await waitOnExecutionContext(ctx);
}

const cursor = async () =>
  (await db.execute("select value, last_run from feed_cursors where name = 'auth0-logs'")).rows[0];
const links = async () =>
  (
    await db.execute(
      "select user_id, e164 from phone_links where user_id like 'auth0|workers-%' and removed_at is null order by user_id",
    )
  ).rows.map((r) => `${r.user_id} ${r.e164}`);

describe('the log catch-up Cron Trigger', () => {
  it('does nothing while the Management API is not configured', async () => {
    await scheduled(LOG_CATCH_UP_CRON, env);
    expect(await cursor()).toBeUndefined();
  });

  it('applies what came after its cursor, then finds nothing more', async () => {
    await db.execute({
      sql: "insert into feed_cursors (name, value, updated_at) values ('auth0-logs', ?, ?)",
      args: [auth0.logIds[0] ?? '', Date.now()],
    });
    await scheduled(LOG_CATCH_UP_CRON, configured);
    const after = await cursor();
    expect(after?.value).toBe(auth0.logIds[2]);
    expect(JSON.parse(String(after?.last_run))).toMatchObject({
      trigger: 'cron',
      status: 'caught_up',
      applied: 2,
    });
    expect(await links()).toEqual(['auth0|workers-dave +14155550188', 'auth0|workers-erin +14155550189']);

    await scheduled(LOG_CATCH_UP_CRON, configured);
    expect(JSON.parse(String((await cursor())?.last_run))).toMatchObject({
      status: 'caught_up',
      received: 0,
    });
  });

  it('runs nothing for a cron it does not know', async () => {
    const before = (await cursor())?.last_run;
    await scheduled('0 0 * * *', configured);
    expect((await cursor())?.last_run).toBe(before);
  });
});
