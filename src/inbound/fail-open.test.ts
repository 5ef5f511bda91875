import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createClient } from '@libsql/client/web';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { type DbGateProxy, startDbGateProxy } from '../../test/support/db-gate-proxy.js';
import { eventually } from '../../test/support/eventually.js';
import { type LibsqlHttpServer, startLibsqlHttpServer } from '../../test/support/libsql-http-server.js';
import { smsParams, twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import { createApp } from '../app.js';
import { parseConfig } from '../config.js';
import { createDb } from '../db/client.js';
import { applyMigrations } from '../db/migrate-node.js';
import { type AppDeps, createAppDeps } from '../deps.js';
import { createFileAssets } from '../node/assets.js';
import { upsertLinks } from '../phone-index/index.js';
import { nullHub, type PushMessage } from '../push/index.js';
import { createMemoryLogger } from '../shared/logger.js';
import { findInteraction } from './interaction-queries.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const CALLER = '+14155550100';
const ROUTED = `${XML}<Response><Say language="en-US">Thanks for calling. Connecting you to an agent.</Say><Enqueue>support</Enqueue></Response>`;

/** The real app over libSQL's HTTP protocol (as on Workers with Turso), through a gate the test controls. */
async function remoteSetup(extra: Partial<AppDeps> = {}) {
  const server = await startLibsqlHttpServer();
  const gate = await startDbGateProxy(server.url);
  const config = parseConfig({ ...TEST_ENV, DATABASE_URL: gate.url, LOOKUP_DEADLINE_MS: '200' });
  const client = createClient({ url: gate.url });
  const db = createDb(client);
  await applyMigrations(db);
  await upsertLinks(db, [{ e164: CALLER, userId: 'auth0|dana', source: 'mfa_sms', verified: true, at: 1 }]);
  const published: PushMessage[] = [];
  const logger = createMemoryLogger();
  const deps = createAppDeps({
    config,
    db,
    hub: { ...nullHub, publish: async (m) => void published.push(m) },
    logger,
    assets: createFileAssets(),
    ...extra,
  });
  /** Reads the database directly, not through the gate. */
  const direct = createDb(server.client as unknown as Parameters<typeof createDb>[0]);
  return { server, gate, client, app: createApp(deps), published, logger, direct };
}

describe('fail open with a stalled or unreachable database (libSQL over HTTP)', () => {
  let server: LibsqlHttpServer | undefined;
  let gate: DbGateProxy | undefined;
  afterEach(async () => {
    gate?.open();
    await gate?.close();
    await server?.close();
  });

  it('routes the call past the deadline, then records it once the database answers', async () => {
    const env = await remoteSetup();
    ({ server, gate } = env);
    env.gate.stall();
    const params = voiceParams(CALLER);
    const res = await env.app.request(twilioFormRequest('/twilio/voice', params));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(ROUTED);
    const warning = env.logger.lines.find((l) => l.message.startsWith('index unavailable'));
    expect(warning?.fields).toMatchObject({ channel: 'voice', timedOut: true, caller: '•••••••0100' });
    expect(JSON.stringify(env.logger.lines)).not.toContain('4155550100');
    expect(await findInteraction(env.direct, params.CallSid as string)).toBeUndefined();

    env.gate.open();
    const record = await eventually(() => findInteraction(env.direct, params.CallSid as string));
    expect(record).toMatchObject({ e164: CALLER, status: 'ringing', flags: { lookupFailed: true } });
    expect(record.matches.map((m) => m.userId)).toEqual(['auth0|dana']);
    await eventually(async () => (env.published.length > 0 ? true : undefined));
    expect(env.published).toHaveLength(1);
    env.client.close();
  });

  it('stamps a late-recorded call with the time of its write, so a reconnecting console still sees it', async () => {
    let clock = Date.UTC(2026, 0, 1, 9, 0, 0);
    const env = await remoteSetup({ now: () => clock });
    ({ server, gate } = env);
    const arrival = clock;
    env.gate.stall();
    const params = voiceParams(CALLER);
    expect((await env.app.request(twilioFormRequest('/twilio/voice', params))).status).toBe(200);
    // A console that caught up meanwhile holds a cursor past the call's arrival.
    clock += 90_000;
    env.gate.open();
    const record = await eventually(() => findInteraction(env.direct, params.CallSid as string));
    expect(record.createdAt).toBe(arrival);
    expect(record.updatedAt).toBe(clock);
    await eventually(async () => (env.published.length > 0 ? true : undefined));
    expect(env.published[0]).toMatchObject({ id: record.id, version: clock });
    env.client.close();
  });

  it('applies a status callback that came while the call was answered without the database', async () => {
    const env = await remoteSetup();
    ({ server, gate } = env);
    env.gate.stall();
    const params = voiceParams(CALLER);
    const callSid = params.CallSid as string;
    expect(await (await env.app.request(twilioFormRequest('/twilio/voice', params))).text()).toBe(ROUTED);
    const status = await env.app.request(
      twilioFormRequest(
        '/twilio/voice/status',
        { ...voiceParams(CALLER, { CallSid: callSid }), CallStatus: 'completed' },
        { headers: { 'i-twilio-idempotency-token': 'status-while-stalled' } },
      ),
    );
    expect(status.status).toBe(204);

    env.gate.open();
    const record = await eventually(async () => {
      const found = await findInteraction(env.direct, callSid);
      return found?.status === 'completed' ? found : undefined;
    });
    expect(record).toMatchObject({ e164: CALLER, flags: { lookupFailed: true } });
    await eventually(async () => (env.published.length >= 2 ? true : undefined));
    expect(env.published.map((m) => (m.interaction as { status: string }).status)).toEqual([
      'ringing',
      'completed',
    ]);
    env.client.close();
  });

  it('answers SMS while the database is down, and records the text when it comes back', async () => {
    const env = await remoteSetup();
    ({ server, gate } = env);
    env.gate.down();
    const params = smsParams(CALLER, 'Is anyone there?');
    const res = await env.app.request(twilioFormRequest('/twilio/sms', params));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${XML}<Response/>`);
    // A text's TwiML never waits for the index: the failure shows up behind the answer.
    const warning = await eventually(() =>
      env.logger.lines.find((l) => l.message.startsWith('index unavailable')),
    );
    expect(warning.fields).toMatchObject({ channel: 'sms', timedOut: false });

    env.gate.open();
    const record = await eventually(() => findInteraction(env.direct, params.MessageSid as string));
    expect(record).toMatchObject({ channel: 'sms', status: 'received', flags: { lookupFailed: true } });
    await eventually(async () => (env.published.length > 0 ? true : undefined));
    expect(env.published).toHaveLength(1);
    env.client.close();
  });

  it('within a background budget (Workers), gives up inside it and says which text it lost', async () => {
    // Workers cancel waitUntil 30 s after the response: a ~2-minute schedule would be cut off silently.
    const env = await remoteSetup({ backgroundBudgetMs: 1500 });
    ({ server, gate } = env);
    env.gate.down();
    const params = smsParams(CALLER, 'Anyone?');
    expect((await env.app.request(twilioFormRequest('/twilio/sms', params))).status).toBe(200);
    // Given up (and said so) well before the two-minute schedule would have run out.
    const gaveUp = await eventually(() =>
      env.logger.lines.find((l) => l.message.startsWith('interaction not recorded')),
    );
    expect(gaveUp.level).toBe('error');
    expect(gaveUp.fields).toMatchObject({ sid: params.MessageSid, backgroundBudgetMs: 1500 });
    expect(JSON.stringify(gaveUp.fields)).not.toContain(CALLER);
    env.gate.open();
    expect(await findInteraction(env.direct, params.MessageSid as string)).toBeUndefined();
    env.client.close();
  });
});

describe('fail open with the embedded database closed', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('still routes calls and answers texts, logging with the number masked', async () => {
    ctx = await createTestContext({ env: { ROUTE_TO: 'number:+14155550142' } });
    ctx.closeDatabase();
    const voice = await ctx.app.request(twilioFormRequest('/twilio/voice', voiceParams(CALLER)));
    expect(voice.status).toBe(200);
    expect(await voice.text()).toContain('<Number');
    const sms = await ctx.app.request(twilioFormRequest('/twilio/sms', smsParams(CALLER, 'hi')));
    expect(sms.status).toBe(200);
    expect(await sms.text()).toBe(`${XML}<Response/>`);
    const status = await ctx.app.request(
      twilioFormRequest('/twilio/voice/status', { ...voiceParams(CALLER), CallStatus: 'completed' }),
    );
    expect(status.status).toBe(204);
    await eventually(() =>
      ctx.logger.lines.filter((l) => l.level === 'warn').length >= 3 ? true : undefined,
    );
    expect(JSON.stringify(ctx.logger.lines)).not.toContain('4155550100');
  });
});

describe('a write lock held by another writer (embedded database)', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('records the call once a transaction of this process lets go of the lock, without freezing the process', async () => {
    ctx = await createTestContext({ env: { LOOKUP_DEADLINE_MS: '3000' } });
    await upsertLinks(ctx.deps.db, [
      { e164: CALLER, userId: 'auth0|dana', source: 'mfa_sms', verified: true, at: 1 },
    ]);
    // Like the Auth0 feed's transactions: the write lock is held across awaits, on another connection.
    const tx = await ctx.deps.db.$client.transaction('write');
    const params = voiceParams(CALLER);
    const answer = ctx.app.request(twilioFormRequest('/twilio/voice', params));
    // This timer fires only if the webhook's write does not hold the process in SQLite's synchronous
    // busy wait: with a 5 s busy_timeout the write waited out the lock this very process held, failed,
    // and the call was answered without its matches.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tx.commit();
    tx.close();
    const res = await answer;
    expect(res.status).toBe(200);
    const record = await findInteraction(ctx.deps.db, params.CallSid as string);
    expect(record?.flags).toEqual({});
    expect(record?.matches.map((m) => m.userId)).toEqual(['auth0|dana']);
  });

  it('keeps answering and recording while another process (a backfill) holds the write lock', async () => {
    ctx = await createTestContext({ env: { LOOKUP_DEADLINE_MS: '200' } });
    // Another process writing as the backfill does (its own connection, busy_timeout 5000, one
    // transaction per batch), holding the lock until told to commit.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require('libsql');
         const db = new Database(process.argv[1]);
         db.exec('pragma busy_timeout = 5000');
         db.exec('begin immediate');
         db.prepare("insert into accounts (user_id, name, created_at, updated_at) values ('auth0|backfilled', 'B', 1, 1)").run();
         console.log('locked');
         process.stdin.once('data', () => { db.exec('commit'); console.log('committed'); process.exit(0); });`,
        join(ctx.dir, 'test.db'),
      ],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('locked');

    const params = voiceParams(CALLER);
    const res = await ctx.app.request(twilioFormRequest('/twilio/voice', params));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<Enqueue>support</Enqueue>');

    holder.stdin.write('commit\n');
    expect((await lines.next()).value).toBe('committed');
    const record = await eventually(() => findInteraction(ctx.deps.db, params.CallSid as string));
    expect(record).toMatchObject({ e164: CALLER, flags: { lookupFailed: true } });
    const backfilled = await ctx.deps.db.$client.execute(
      "select count(*) as n from accounts where user_id = 'auth0|backfilled'",
    );
    expect(Number(backfilled.rows[0]?.n)).toBe(1);
  });
});
