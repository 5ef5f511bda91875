import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rows } from '../../test/support/auth0-context.js';
import {
  guardianEvent,
  type LogObject,
  loginEvent,
  managementApiEvent,
  passwordlessCodeEvent,
  phoneChangeEvent,
  signupEvent,
  userDeletedEvent,
} from '../../test/support/auth0-log-fixtures.js';
import { FakeLogStream, STREAM_READINGS, type StreamReading } from '../../test/support/auth0-log-stream.js';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { matchNumber, upsertAccounts, upsertLinks } from '../phone-index/index.js';

/**
 * POST /auth0/log-stream with events shaped as Auth0's log schema describes them, delivered as Auth0's Log
 * Streams deliver (test/support/auth0-log-stream.ts), under every reading of what the docs leave open.
 */

const NUMBER = '+14155550100';
const T0 = Date.parse('2026-11-20T10:00:00.000Z');

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(() => ctx.close());

const send = (body: string, headers: Record<string, string>) =>
  ctx.app.request('/auth0/log-stream', { method: 'POST', headers, body });
const stream = (reading: StreamReading = { format: 'jsonlines', shape: 'wrapped' }) =>
  new FakeLogStream(send, { token: TEST_ENV.AUTH0_LOG_STREAM_TOKEN, reading });
const deliver = async (logs: LogObject[], reading?: StreamReading) => {
  const delivery = await stream(reading).deliver(logs);
  expect(delivery.status).toBe(200);
  expect(delivery.attempts).toBe(1);
  return delivery.summary as Record<string, number>;
};
const live = async (e164 = NUMBER) => (await matchNumber(ctx.deps.db, e164)).matches.map((m) => m.userId);
const liveLinks = (userId: string) =>
  rows(
    ctx,
    `select e164, source, verified from phone_links where user_id = '${userId}' and removed_at is null order by e164, source`,
  );

async function enrolled(at = T0) {
  await upsertAccounts(ctx.deps.db, [{ userId: 'auth0|alice', email: 'alice@example.com', at }]);
  await upsertLinks(ctx.deps.db, [{ e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at }]);
}

describe('who may post', () => {
  it('takes the token as Auth0 sends it (verbatim) or as a bearer token, and nothing else', async () => {
    const body = JSON.stringify(loginEvent({ date: T0 }));
    const post = (authorization?: string) =>
      send(body, { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) });
    expect((await post(TEST_ENV.AUTH0_LOG_STREAM_TOKEN)).status).toBe(200);
    expect((await post(`Bearer ${TEST_ENV.AUTH0_LOG_STREAM_TOKEN}`)).status).toBe(200);
    expect((await post()).status).toBe(401);
    expect((await post('wrong-token-0123456789abcdef0000')).status).toBe(401);
    expect((await post(`${TEST_ENV.AUTH0_LOG_STREAM_TOKEN}x`)).status).toBe(401);
    expect(await rows(ctx, 'select count(*) as n from held_log_events')).toEqual([{ n: 0 }]);
  });
});

describe.each(STREAM_READINGS)('every phone log type, as documented ($format, $shape items)', (reading) => {
  it('applies each event of a user’s life to the index', async () => {
    const steps: [LogObject, () => Promise<void>][] = [
      [
        guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER, enrollment: true }),
        async () =>
          expect(await liveLinks('auth0|alice')).toEqual([{ e164: NUMBER, source: 'mfa_sms', verified: 1 }]),
      ],
      [
        guardianEvent('gd_update_device_account', { date: T0 + 1000, phone: '+14155550111' }),
        async () =>
          expect(await liveLinks('auth0|alice')).toEqual([
            { e164: '+14155550111', source: 'mfa_sms', verified: 0 },
          ]),
      ],
      [
        guardianEvent('gd_auth_succeed', { date: T0 + 2000, phone: '+14155550111' }),
        async () =>
          expect(await liveLinks('auth0|alice')).toMatchObject([{ e164: '+14155550111', verified: 1 }]),
      ],
      [
        guardianEvent('gd_send_voice', { date: T0 + 3000, phone: '+14155550112', factor: 'voice' }),
        async () => expect(await live('+14155550112')).toEqual(['auth0|alice']),
      ],
      [
        guardianEvent('gd_unenroll', { date: T0 + 4000, phone: '+14155550111' }),
        async () => expect(await live('+14155550111')).toEqual([]),
      ],
      [
        phoneChangeEvent({ date: T0 + 5000, newPhone: '+14155550122', oldPhone: '', phoneVerified: false }),
        async () => expect(await live('+14155550122')).toEqual(['auth0|alice']),
      ],
      [
        passwordlessCodeEvent({ date: T0 + 6000, phone: '+14155550199' }),
        async () =>
          expect(await liveLinks('sms|6612d0c3a1')).toEqual([
            { e164: '+14155550199', source: 'passwordless', verified: 0 },
          ]),
      ],
      [
        signupEvent({ date: T0 + 7000, phone: '+14155550177', phoneVerified: true }),
        async () =>
          expect(await liveLinks('auth0|bob')).toEqual([
            { e164: '+14155550177', source: 'profile', verified: 1 },
          ]),
      ],
      [
        managementApiEvent({
          date: T0 + 8000,
          method: 'PATCH',
          path: '/api/v2/users/auth0%7Cbob',
          body: { phone_number: '+14155550178' },
        }),
        async () => {
          expect(await live('+14155550178')).toEqual(['auth0|bob']);
          expect(await live('+14155550177')).toEqual([]);
        },
      ],
      [
        managementApiEvent({ date: T0 + 9000, method: 'DELETE', path: '/api/v2/users/auth0%7Cbob' }),
        async () => expect(await live('+14155550178')).toEqual([]),
      ],
      [
        userDeletedEvent({ date: T0 + 10_000 }),
        async () => {
          expect(await liveLinks('auth0|alice')).toEqual([]);
          expect(await rows(ctx, "select deleted_at from accounts where user_id = 'auth0|alice'")).toEqual([
            { deleted_at: T0 + 10_000 },
          ]);
        },
      ],
    ];
    for (const [event, check] of steps) {
      const summary = await deliver([event], reading);
      expect(summary, event.type).toMatchObject({ applied: 1, held: 0 });
      await check();
    }
  });
});

describe('readings of the MFA factor in a gd_* event', () => {
  it.each(['type sms', 'type phone', 'id prefix only', 'description only'] as const)(
    'recognises a phone factor by %s',
    async (factorReading) => {
      await deliver([
        guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER, reading: factorReading }),
      ]);
      expect(await live()).toEqual(['auth0|alice']);
      await deliver([guardianEvent('gd_unenroll', { date: T0 + 1, phone: null, reading: factorReading })]);
      expect(await live()).toEqual([]);
    },
  );

  it('leaves other factors’ events alone', async () => {
    await enrolled();
    await deliver([guardianEvent('gd_unenroll', { date: T0 + 1000, factor: 'totp' })]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 2000, factor: 'push' })]);
    expect(await live()).toEqual(['auth0|alice']);
  });

  it('never reads a masked or hashed number (stream PII obfuscation) as a number', async () => {
    // main/docs/customize/log-streams.mdx, "PII obfuscation": masking (asterisks) or xxHash of phone fields.
    for (const phone of ['************', '4155550100', '8351982309871234']) {
      await deliver([guardianEvent('gd_send_sms', { date: T0, phone })]);
    }
    expect(await rows(ctx, 'select count(*) as n from phone_links')).toEqual([{ n: 0 }]);
  });
});

describe('order and redelivery', () => {
  it('removes an unenrolled number; a redelivery and a late enrollment do not bring it back', async () => {
    await enrolled();
    const unenroll = guardianEvent('gd_unenroll', { date: T0 + 60_000, phone: NUMBER });
    expect(await deliver([unenroll])).toMatchObject({ applied: 1 });
    expect(await live()).toEqual([]);
    expect(await deliver([unenroll])).toMatchObject({ applied: 0, duplicates: 1 });
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 30_000, phone: NUMBER })]);
    expect(await live()).toEqual([]);
  });

  it('keeps an unenrollment that arrives before its enrollment as a tombstone', async () => {
    await deliver([guardianEvent('gd_unenroll', { date: T0 + 60_000, phone: NUMBER })]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER })]);
    expect(await live()).toEqual([]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 120_000, phone: NUMBER })]);
    expect((await matchNumber(ctx.deps.db, NUMBER)).matches).toMatchObject([
      { userId: 'auth0|alice', verified: true, evidence: 'verified MFA phone' },
    ]);
  });

  it('without a number in the log, unenrolls every MFA phone of the user', async () => {
    await enrolled();
    await deliver([guardianEvent('gd_unenroll', { date: T0 + 2000 })]);
    expect(await live()).toEqual([]);
  });

  it('lets no older enrollment log create a link after an unenrollment that named no number', async () => {
    await enrolled();
    await deliver([guardianEvent('gd_unenroll', { date: T0 + 3000 })]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 2000, phone: '+14155550122' })]);
    expect(await live('+14155550122')).toEqual([]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 4000, phone: '+14155550122' })]);
    expect((await matchNumber(ctx.deps.db, '+14155550122')).matches).toMatchObject([{ verified: true }]);
  });

  it('forgets a deleted user for good (sdu), whatever arrives later', async () => {
    await enrolled();
    await deliver([userDeletedEvent({ date: T0 + 60_000 })]);
    await deliver([guardianEvent('gd_enrollment_complete', { date: T0 + 30_000, phone: NUMBER })]);
    await upsertLinks(ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at: T0 + 90_000 },
    ]);
    expect(await live()).toEqual([]);
  });

  it('keeps only the newest profile phone when phone changes (scpn) arrive out of order', async () => {
    await deliver([phoneChangeEvent({ date: T0 + 1000, newPhone: '+14155550131' })]);
    await deliver([phoneChangeEvent({ date: T0 + 3000, newPhone: NUMBER })]);
    await deliver([phoneChangeEvent({ date: T0 + 2000, newPhone: '+14155550133' })]);
    expect(await liveLinks('auth0|alice')).toEqual([{ e164: NUMBER, source: 'profile', verified: 0 }]);
  });

  it('takes scpn’s phone_verified, and moves a passwordless user’s login number', async () => {
    await deliver([phoneChangeEvent({ date: T0, newPhone: NUMBER, phoneVerified: true })]);
    expect(await liveLinks('auth0|alice')).toEqual([{ e164: NUMBER, source: 'profile', verified: 1 }]);
    await upsertLinks(ctx.deps.db, [
      { e164: '+14155550188', userId: 'sms|carol', source: 'passwordless', verified: true, at: T0 },
    ]);
    await deliver([
      phoneChangeEvent({ date: T0 + 1, userId: 'sms|carol', strategy: 'sms', newPhone: '+14155550189' }),
    ]);
    expect(await liveLinks('sms|carol')).toEqual([
      { e164: '+14155550189', source: 'passwordless', verified: 0 },
    ]);
  });
});

describe('a delivery is never refused for what is inside it', () => {
  it('applies the good lines, holds the rest, and answers 200 the first time', async () => {
    const feed = stream();
    const good = guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER });
    const undated = guardianEvent('gd_unenroll', { date: null, phone: NUMBER });
    const body = [
      JSON.stringify({ log_id: good.log_id, data: good }),
      '{not json',
      JSON.stringify({ nope: true }),
      JSON.stringify({ log_id: undated.log_id, data: undated }),
      JSON.stringify(loginEvent({ date: T0 })),
    ].join('\n');
    const delivery = await feed.deliverBody(body);
    expect(delivery).toMatchObject({ status: 200, attempts: 1 });
    expect(delivery.summary).toEqual({ received: 5, applied: 1, duplicates: 0, ignored: 1, held: 3 });
    expect(feed.health).toEqual([]);
    expect(await live()).toEqual(['auth0|alice']);

    const held = await ctx.app.request('/auth0/held-logs', {
      headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` },
    });
    const listed = (await held.json()) as {
      open: number;
      items: { reason: string; logId: string | null; raw: string }[];
    };
    expect(listed.open).toBe(3);
    expect(listed.items.map((i) => [i.reason, i.logId])).toEqual([
      ['not_json', null],
      ['unknown_shape', null],
      ['no_date', undated.log_id],
    ]);
    expect(listed.items[0]?.raw).toBe('{not json');
  });

  it('holds an event whose apply fails for its content, and applies the rest of its batch', async () => {
    // A poisoned user: any write for it fails inside SQLite, as a bug triggered by one event's content would.
    await ctx.deps.db.$client.execute(`create trigger poison before insert on phone_links
      when new.user_id = 'auth0|poison' begin select raise(abort, 'poisoned'); end`);
    const events = [
      guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER }),
      guardianEvent('gd_enrollment_complete', { date: T0, phone: '+14155550166', userId: 'auth0|poison' }),
      guardianEvent('gd_enrollment_complete', { date: T0, phone: '+14155550167', userId: 'auth0|carol' }),
    ];
    expect(await deliver(events)).toMatchObject({ applied: 2, held: 1 });
    expect(await live()).toEqual(['auth0|alice']);
    expect(await live('+14155550167')).toEqual(['auth0|carol']);
    expect(await rows(ctx, 'select reason, log_id from held_log_events')).toEqual([
      { reason: 'apply_failed', log_id: events[1]?.log_id },
    ]);

    // Fixed: a replay applies it once; the event is claimed, so a redelivery is a duplicate.
    await ctx.deps.db.$client.execute('drop trigger poison');
    const replay = await ctx.app.request('/auth0/held-logs/replay', {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await replay.json()).toMatchObject({ results: [{ outcome: 'applied' }], open: 0 });
    expect(await live('+14155550166')).toEqual(['auth0|poison']);
    expect(await deliver([events[1] as LogObject])).toMatchObject({ duplicates: 1 });
  });

  it('reads a JSON-lines delivery of any size as it streams in', async () => {
    const filler = JSON.stringify({
      log_id: 'x',
      data: { ...loginEvent({ date: T0 }), pad: 'p'.repeat(4000) },
    });
    const lines = Array.from({ length: 2300 }, () => filler);
    const tail = guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER });
    lines.push(JSON.stringify(tail), `{"too long": "${'q'.repeat(300 * 1024)}"}`, '{not json');
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThan(9 * 1024 * 1024);
    const delivery = await stream().deliverBody(body);
    expect(delivery).toMatchObject({ status: 200, attempts: 1 });
    expect(delivery.summary).toMatchObject({ received: 2303, applied: 1, ignored: 2300, held: 2 });
    expect(await live()).toEqual(['auth0|alice']);
    expect(await rows(ctx, 'select reason, raw_truncated from held_log_events order by reason')).toEqual([
      { reason: 'not_json', raw_truncated: 0 },
      { reason: 'oversized', raw_truncated: 1 },
    ]);
  });

  it('keeps aside a single JSON array too large to read, and says so', async () => {
    const items = Array.from({ length: 2100 }, () => ({
      ...loginEvent({ date: T0 }),
      pad: 'p'.repeat(4000),
    }));
    const delivery = await stream().deliverBody(JSON.stringify(items));
    expect(delivery).toMatchObject({ status: 200, attempts: 1, summary: { held: 1 } });
    const [row] = await rows(ctx, 'select reason, detail, raw_truncated from held_log_events');
    expect(row).toMatchObject({ reason: 'oversized', raw_truncated: 1 });
    expect(String(row?.detail)).toMatch(/JSON array of \d+ bytes/);
  });
});

describe('held items', () => {
  const admin = { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`, 'content-type': 'application/json' };

  it('are for operators only, can be dismissed, and a replay of a duplicate applies nothing', async () => {
    expect((await ctx.app.request('/auth0/held-logs')).status).toBe(401);
    const event = guardianEvent('gd_enrollment_complete', { date: T0, phone: NUMBER });
    await deliver([event]);
    // Held by an older callerpop that could not read it, then applied since by another delivery.
    await ctx.deps.db.$client.execute({
      sql: `insert into held_log_events (id, log_id, origin, reason, raw, received_at)
            values ('h1', ?, 'stream', 'unknown_shape', ?, ?), ('h2', null, 'stream', 'not_json', '{x', ?)`,
      args: [event.log_id, JSON.stringify(event), T0, T0],
    });
    const replay = await ctx.app.request('/auth0/held-logs/replay', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ ids: ['h1'] }),
    });
    expect(await replay.json()).toMatchObject({ results: [{ id: 'h1', outcome: 'duplicate' }], open: 1 });
    expect((await ctx.app.request('/auth0/held-logs/h2', { method: 'DELETE', headers: admin })).status).toBe(
      204,
    );
    expect((await ctx.app.request('/auth0/held-logs/h2', { method: 'DELETE', headers: admin })).status).toBe(
      404,
    );
    expect(await rows(ctx, 'select id, resolution from held_log_events order by id')).toEqual([
      { id: 'h1', resolution: 'duplicate' },
      { id: 'h2', resolution: expect.stringMatching(/^dismissed by /) },
    ]);
    const bad = await ctx.app.request('/auth0/held-logs/replay', {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ ids: 'h1' }),
    });
    expect(bad.status).toBe(400);
  });
});
