import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rows } from '../../test/support/auth0-context.js';
import {
  guardianEvent,
  type LogObject,
  loginEvent,
  nextLogId,
} from '../../test/support/auth0-log-fixtures.js';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { type FakeAuth0, type FakeAuth0Options, startFakeAuth0 } from '../../test/support/fake-auth0.js';
import { createApp } from '../app.js';
import { createLogReader, managementApiFrom } from '../auth0-api/index.js';
import type { LogCatchUpDeps } from './catch-up-routes.js';
import { createLogCatchUp, LOG_CURSOR, logDepsOf } from './log-catch-up.js';

/**
 * The log catch-up end to end: the real app and its libSQL database, the shared Management API client (real
 * `auth0` SDK, real HTTP) against the loopback stand-in's GET /api/v2/logs, events shaped as Auth0's log schema
 * describes them (bare log objects, as GET /api/v2/logs returns them).
 */

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const number = (i: number) => `+1415555${String(1000 + i).slice(-4)}`;

let ctx: TestContext | undefined;
let fake: FakeAuth0 | undefined;
afterEach(async () => {
  ctx?.close();
  await fake?.close();
  ctx = undefined;
  fake = undefined;
});

async function setup(options: FakeAuth0Options = {}, env: Record<string, string> = {}) {
  fake = await startFakeAuth0(options);
  ctx = await createTestContext({ env: { AUTH0_PLAN: 'enterprise', ...fake.env, ...env } });
  const api = managementApiFrom(ctx.config, ctx.deps.fetch);
  if (!api) throw new Error('Management API not configured');
  const logCatchUp = createLogCatchUp(logDepsOf(ctx.deps), createLogReader(api), {
    maxPages: ctx.config.LOG_CATCH_UP_PAGES,
  });
  const deps: LogCatchUpDeps = { ...ctx.deps, logCatchUp };
  const app = createApp(deps);
  const c = ctx;
  const f = fake;
  return {
    ctx: c,
    fake: f,
    logCatchUp,
    post: async (body?: unknown) => {
      const res = await app.request('/api/auth0/log-catch-up', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    status: async () =>
      (await (
        await app.request('/api/auth0/log-catch-up', {
          headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` },
        })
      ).json()) as Record<string, unknown>,
    stream: (logs: LogObject[]) =>
      c.app.request('/auth0/log-stream', {
        method: 'POST',
        headers: { authorization: TEST_ENV.AUTH0_LOG_STREAM_TOKEN, 'content-type': 'application/json' },
        // As streams have been seen sending them: { log_id, data } per line (see log-stream.ts).
        body: logs.map((l) => JSON.stringify({ log_id: l.log_id, data: l })).join('\n'),
      }),
    links: () =>
      rows(c, 'select user_id, e164 from phone_links where removed_at is null order by user_id, e164'),
  };
}

const enrollment = (i: number, at = T0 + i * 1000) =>
  guardianEvent('gd_enrollment_complete', {
    userId: `auth0|u${i}`,
    phone: number(i),
    enrollment: true,
    date: at,
  });

describe('the Auth0 log catch-up', () => {
  it('first starts at the newest event, applying nothing older; then applies what comes after, once', async () => {
    const t = await setup({ logs: [enrollment(1), enrollment(2)] });
    const first = await t.post();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'started', applied: 0, pages: 0, to: t.fake.logs[1]?.log_id });
    expect(await t.links()).toEqual([]);

    t.fake.addLogs([enrollment(3), loginEvent({ date: T0 + 3500 })]);
    const second = await t.post();
    expect(second.body).toMatchObject({ status: 'caught_up', pages: 1, received: 2, applied: 1, ignored: 1 });
    expect(await t.links()).toEqual([{ user_id: 'auth0|u3', e164: number(3) }]);
    // Documented checkpoint paging: from the last applied log_id, 100 at a time, nothing else.
    const query = new URLSearchParams(t.fake.logCalls().at(-1)?.query);
    expect(query.get('from')).toBe(t.fake.logs[1]?.log_id);
    expect(query.get('take')).toBe('100');

    const third = await t.post();
    expect(third.body).toMatchObject({ status: 'caught_up', pages: 0, received: 0, applied: 0 });
    expect(await t.status()).toMatchObject({
      configured: true,
      cursor: t.fake.logs.at(-1)?.log_id,
      lastRun: { trigger: 'api:api:admin-token', status: 'caught_up' },
    });
  });

  it('applies what the stream missed exactly once: a redelivery and an overlapping replay change nothing', async () => {
    const start = nextLogId();
    const events = [1, 2, 3, 4, 5].map((i) => enrollment(i));
    const t = await setup({ logs: events });
    // The stream got 1 and 2, then 4 twice (a redelivery); 3 and 5 never came.
    expect((await t.stream([events[0], events[1]] as LogObject[])).status).toBe(200);
    expect((await t.stream([events[3]] as LogObject[])).status).toBe(200);
    expect((await t.stream([events[3]] as LogObject[])).status).toBe(200);

    const run = await t.post({ from: start });
    expect(run.body).toMatchObject({ status: 'caught_up', received: 5, applied: 2, duplicates: 3, held: 0 });
    expect((await t.links()).map((l) => l.user_id)).toEqual([
      'auth0|u1',
      'auth0|u2',
      'auth0|u3',
      'auth0|u4',
      'auth0|u5',
    ]);
    const claims = await rows(t.ctx, "select count(*) as n from processed_events where source = 'auth0-log'");
    expect(claims).toEqual([{ n: 5 }]);

    // Replaying from an earlier point (an overlap) reads them again and applies nothing twice.
    const again = await t.post({ from: start });
    expect(again.body).toMatchObject({ status: 'caught_up', received: 5, applied: 0, duplicates: 5 });
    expect(await t.links()).toHaveLength(5);
  });

  it('never lets an older event overwrite a newer fact', async () => {
    const start = nextLogId();
    // Applied first by the stream: u1 enrolls +1 415 555 1001 at T0 + 10 s.
    const enrolled = enrollment(1, T0 + 10_000);
    // Found later by the catch-up, with a later log_id but an earlier date: an unenroll at T0 + 5 s.
    const olderUnenroll = guardianEvent('gd_unenroll', {
      userId: 'auth0|u1',
      phone: number(1),
      date: T0 + 5_000,
    });
    const t = await setup({ logs: [enrolled, olderUnenroll] });
    expect((await t.stream([enrolled])).status).toBe(200);
    const run = await t.post({ from: start });
    expect(run.body).toMatchObject({ status: 'caught_up', received: 2, duplicates: 1 });
    expect(await t.links()).toEqual([{ user_id: 'auth0|u1', e164: number(1) }]);
  });

  it('stopped between pages, resumes from its cursor: every event applied once', async () => {
    const start = nextLogId();
    const events = Array.from({ length: 250 }, (_, i) => enrollment(i + 1));
    const t = await setup({ logs: events });
    // The second page's request fails (Auth0 or the network down mid-run).
    const firstPageEnd = events[99]?.log_id as string;
    t.fake.fail((r) => r.path === '/api/v2/logs' && r.query.includes(`from=${firstPageEnd}`), 500);
    const broken = await t.post({ from: start });
    expect(broken.status).toBe(503);
    expect(await t.status()).toMatchObject({
      cursor: firstPageEnd,
      lastRun: { status: 'failed', pages: 1, applied: 100, error: expect.stringContaining('HTTP 500') },
    });
    const resumed = await t.post();
    expect(resumed.body).toMatchObject({
      status: 'caught_up',
      pages: 2,
      received: 150,
      applied: 150,
      duplicates: 0,
    });
    expect(await t.links()).toHaveLength(250);
  });

  it('reads at most its pages per run and says there is more', async () => {
    const start = nextLogId();
    const events = Array.from({ length: 230 }, (_, i) => loginEvent({ date: T0 + i }));
    const t = await setup({ logs: events }, { LOG_CATCH_UP_PAGES: '2' });
    const first = await t.post({ from: start });
    expect(first.body).toMatchObject({ status: 'more', pages: 2, received: 200 });
    const rest = await t.post();
    expect(rest.body).toMatchObject({ status: 'caught_up', pages: 1, received: 30 });
  });

  it.each([true, false])('waits out a 429 (Retry-After: %s) and completes the run', async (retryAfter) => {
    const start = nextLogId();
    const events = Array.from({ length: 300 }, (_, i) => loginEvent({ date: T0 + i }));
    // Told Enterprise (16/s) while the tenant allows 1 at once, 2 per second: Auth0 refuses, the run waits.
    const t = await setup({
      logs: events,
      rateLimit: { limit: 1, perSecond: 2 },
      readings: { retryAfter },
    });
    const run = await t.post({ from: start });
    expect(run.body).toMatchObject({ status: 'caught_up', pages: 3, received: 300 });
    const calls = t.fake.logCalls();
    expect(calls.filter((c) => c.status === 429).length).toBeGreaterThan(0);
    // Three full pages, then the empty array that says there is nothing newer.
    expect(calls.filter((c) => c.status === 200)).toHaveLength(4);
  });

  it('runs one at a time in a process', async () => {
    const t = await setup({ logs: [enrollment(1)], latencyMs: 200 });
    const [a, b] = await Promise.all([t.post({ from: '1' }), t.post({ from: '1' })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });

  it('is behind the API bearer token, checks its input, and says when it is not configured', async () => {
    const t = await setup();
    const anonymous = await createApp({ ...t.ctx.deps }).request('/api/auth0/log-catch-up', {
      method: 'POST',
    });
    expect(anonymous.status).toBe(401);
    expect((await t.post({ from: 'not a log id!' })).status).toBe(400);
    expect((await t.post({ pages: 0 })).status).toBe(400);
    expect((await t.post([1])).status).toBe(400);
    const unconfigured = createApp(t.ctx.deps);
    const headers = { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` };
    const post = await unconfigured.request('/api/auth0/log-catch-up', { method: 'POST', headers });
    expect(post.status).toBe(503);
    expect(((await post.json()) as { error: { message: string } }).error.message).toContain(
      'AUTH0_CLIENT_SECRET',
    );
    const get = await unconfigured.request('/api/auth0/log-catch-up', { headers });
    expect(await get.json()).toMatchObject({ configured: false, cursor: null, lastRun: null });
    expect(await rows(t.ctx, 'select name from feed_cursors')).toEqual([]);
    expect(LOG_CURSOR).toBe('auth0-logs');
  });
});

describe('npm run log-catch-up', () => {
  it('runs once against the configured tenant and prints what it did', { timeout: 60_000 }, async () => {
    const start = nextLogId();
    const t = await setup({ logs: [enrollment(7)] });
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/log-catch-up.ts', '--from', start], {
      cwd: resolve(import.meta.dirname, '../..'),
      env: {
        PATH: process.env.PATH ?? '',
        ...t.fake.env,
        AUTH0_PLAN: 'enterprise',
        DATABASE_URL: t.ctx.config.DATABASE_URL,
        CALLERPOP_DATA_DIR: t.ctx.dir,
      } as unknown as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(0);
    expect(output).toMatch(/"status": "caught_up"/);
    expect(output).toMatch(/"applied": 1/);
    expect(await t.links()).toEqual([{ user_id: 'auth0|u7', e164: number(7) }]);
  });
});
