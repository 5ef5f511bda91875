import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { findInteraction } from '../src/inbound/interaction-queries.js';
import { ALICE, type Auth0Fixture, createAuth0Fixture, deliverEvent, rows } from './support/auth0-context.js';
import { postAuth0Event } from './support/auth0-sign.js';
import { createTestContext, TEST_ENV, type TestContext } from './support/context.js';
import { twilioFormRequest, voiceParams } from './support/twilio-sign.js';

/**
 * The embedded database's busy_timeout is 100 ms on Node. A write of the Auth0 feed, the log stream or
 * the OTP relay that meets another process's write lock for longer (a backfill's batch) fails: the route
 * must answer a clean 503 in the one error shape (the Action and the Log Stream retry a 5xx, and their
 * writes are idempotent) in the one error shape, leave nothing half-written, and apply the redelivery.
 */

let fixture: Auth0Fixture | undefined;
let holder: ChildProcess | undefined;
let plain: TestContext | undefined;

afterEach(async () => {
  if (holder && holder.exitCode === null) {
    const exited = new Promise((resolve) => holder?.once('exit', resolve));
    holder.stdin?.write('go\n');
    await exited;
  }
  holder = undefined;
  await fixture?.close();
  fixture = undefined;
  plain?.close();
  plain = undefined;
});

/** Another process (as the backfill writes) holding the write lock until released. */
async function holdWriteLock(file: string) {
  const child = spawn(
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
      file,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  holder = child;
  child.stdin?.on('error', () => undefined);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  expect(await next()).toBe('locked');
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.write('go\n');
    expect(await next()).toBe('committed');
    await exited;
  };
}

/** A 503 `unavailable` with Retry-After in the one error shape, so the sender retries. */
async function expectRetryable(res: Response) {
  const body = (await res.json()) as { error?: { code?: string; message?: string; requestId?: string } };
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error?.code).toBe('unavailable');
  expect(typeof body.error?.requestId).toBe('string');
  // Leaks nothing of the statement (its parameters hold numbers).
  expect(JSON.stringify(body)).not.toMatch(/insert|update|\+1415/i);
  // A sender retries after Retry-After, as it is told: by then the failed statement is finalized (see
  // src/node/libsql-busy-heal.ts) and the connection commits again.
  await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after')) * 1000));
}

describe('writes that meet another process’s write lock', () => {
  it('the Auth0 event feed answers a 503, writes nothing, and applies the redelivery', async () => {
    fixture = await createAuth0Fixture();
    const { ctx } = fixture;
    const release = await holdWriteLock(join(ctx.dir, 'test.db'));
    const event = { type: 'user.login', occurred_at: Date.now(), user: ALICE, mfa: {} };
    await expectRetryable(await postAuth0Event(ctx.app, event, { id: 'msg_busy_login' }));
    await release();
    expect(await rows(ctx, 'select user_id from accounts where user_id = ?', [ALICE.user_id])).toEqual([]);
    expect(await rows(ctx, 'select event_id from processed_events')).toEqual([]);
    const retried = await postAuth0Event(ctx.app, event, { id: 'msg_busy_login' });
    expect(retried.status).toBe(200);
    expect(await rows(ctx, 'select user_id from accounts where user_id = ?', [ALICE.user_id])).toHaveLength(
      1,
    );
  });

  it('the log stream answers a 503 and applies the redelivery', async () => {
    fixture = await createAuth0Fixture();
    const { ctx } = fixture;
    const release = await holdWriteLock(join(ctx.dir, 'test.db'));
    const body = JSON.stringify({
      log_id: '90001',
      data: {
        date: new Date().toISOString(),
        type: 'gd_enrollment_complete',
        user_id: 'auth0|alice',
        log_id: '90001',
        // As logs-schema.json places it for gd_* types: details.authenticator.phone_number.
        details: { authenticator: { id: 'sms|dev_1', type: 'sms', phone_number: '+14155550100' } },
      },
    });
    const send = () =>
      ctx.app.request('/auth0/log-stream', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: TEST_ENV.AUTH0_LOG_STREAM_TOKEN },
        body,
      });
    await expectRetryable(await send());
    await release();
    expect(await rows(ctx, 'select e164 from phone_links')).toEqual([]);
    expect((await send()).status).toBe(200);
    expect(await rows(ctx, 'select e164 from phone_links')).toEqual([{ e164: '+14155550100' }]);
  });

  it('the OTP relay answers a 503 before sending anything, and sends once on the redelivery', async () => {
    fixture = await createAuth0Fixture();
    const { ctx, twilio } = fixture;
    const release = await holdWriteLock(join(ctx.dir, 'test.db'));
    const event = deliverEvent({ code: '482910' });
    await expectRetryable(await postAuth0Event(ctx.app, event, { id: 'msg_busy_otp' }));
    await release();
    expect(twilio.messages).toHaveLength(0);
    expect(await rows(ctx, 'select id from otp_deliveries')).toEqual([]);
    const retried = await postAuth0Event(ctx.app, event, { id: 'msg_busy_otp' });
    expect(retried.status).toBe(200);
    expect(twilio.messages).toHaveLength(1);
  });

  it('a call whose write waited out the lock is recorded once it is released (the connection still commits)', async () => {
    plain = await createTestContext({ env: { LOOKUP_DEADLINE_MS: '3000' } });
    const release = await holdWriteLock(join(plain.dir, 'test.db'));
    const params = voiceParams('+14155550100');
    // With its idempotency token, a call is written in a batch (a write transaction), as Twilio sends it.
    const answer = plain.app.request(
      twilioFormRequest('/twilio/voice', params, { headers: { 'i-twilio-idempotency-token': 'busy-call' } }),
    );
    // The recorder retries the busy batch asynchronously; release the lock while it does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await release();
    expect((await answer).status).toBe(200);
    const record = await findInteraction(plain.deps.db, params.CallSid as string);
    expect(record?.flags).toEqual({});
  });
});
