import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../test/support/context.js';
import { claimEvent } from '../db/processed-events.js';
import { findInteraction, insertWebhookInteractions } from '../inbound/index.js';
import { purgeExpired } from './queries.js';
import { runRetention } from './retention.js';

/**
 * Retention of everything that holds a phone number or a person's trace: the interactions and the event ids
 * that de-duplicate them, then each table around them, seeded with one row past its retention and one within
 * it, of which only the first goes.
 */
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 10, 22, 6, 0, 0);
const OLD = NOW - 31 * DAY;
const RECENT = NOW - 29 * DAY;

let ctx: TestContext | undefined;
afterEach(() => ctx?.close());

async function exec(c: TestContext, sql: string, args: (string | number | null)[] = []) {
  return (await c.deps.db.$client.execute({ sql, args })).rows.map((r) => ({ ...r }));
}

/** Seeds through the path the webhooks write with; the interaction's Twilio SID is `CA<id>`. */
async function seedInteraction(c: TestContext, id: string, createdAt: number) {
  await insertWebhookInteractions(
    c.deps.sql,
    [
      {
        id,
        channel: 'voice',
        twilioSid: `CA${id}`,
        rawFrom: '+14155550100',
        e164: '+14155550100',
        fromReason: null,
        toNumber: '+14155550199',
        stirVerstat: null,
        status: 'ringing',
        matches: [],
        flags: {},
        callerVerification: 'not_attempted',
        createdAt,
        updatedAt: createdAt,
      },
    ],
    [],
  );
}

async function seedAt(c: TestContext, label: string, at: number) {
  await seedInteraction(c, label, at);
  await exec(
    c,
    `insert into caller_verifications (interaction_id, code_hash, salt, expires_at, created_at, updated_at)
     values (?, 'h', 's', ?, ?, ?)`,
    [label, at + 600_000, at, at],
  );
  await exec(
    c,
    `insert into otp_deliveries (id, recipient, user_id, channel, purpose, trigger, status, created_at, updated_at)
     values (?, '+14155550100', 'auth0|alice', 'sms', 'authentication', 'send-phone-message', 'sent', ?, ?)`,
    [label, at, at],
  );
  await exec(
    c,
    `insert into enrollment_decisions (e164, user_id, policy, decision, reason, trigger, created_at)
     values ('+14155550100', ?, 'warn', 'allow', 'no_conflict', 'send-phone-message', ?)`,
    [label, at],
  );
  await exec(
    c,
    `insert into verify_attempts (kind, e164, user_id, at) values ('send', '+14155550100', ?, ?)`,
    [label, at],
  );
  await exec(
    c,
    `insert into verify_sessions (id, user_id, state, csrf_token, status, e164, created_at, expires_at)
     values (?, 'auth0|alice', 'st', 'csrf', 'code', '+14155550100', ?, ?)`,
    [label, at, at + 30 * 60_000],
  );
  await exec(
    c,
    'insert into verify_used_tokens (token_hash, user_id, used_at, expires_at) values (?, ?, ?, ?)',
    [label, 'auth0|alice', at, at + 300_000],
  );
}

const left = async (c: TestContext, table: string, column: string) =>
  (await exec(c, `select ${column} as k from ${table} order by 1`)).map((r) => String(r.k));

describe('retention', () => {
  it('deletes interactions older than RETENTION_DAYS and keeps the rest', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '30' }, deps: { now: () => NOW } });
    await seedInteraction(ctx, 'old', NOW - 31 * DAY);
    await seedInteraction(ctx, 'edge', NOW - 30 * DAY + 1000);
    await seedInteraction(ctx, 'new', NOW - DAY);

    const removed = await runRetention(ctx.deps);

    expect(removed.interactions).toBe(1);
    expect(await findInteraction(ctx.deps.db, 'CAold')).toBeUndefined();
    expect(await findInteraction(ctx.deps.db, 'CAedge')).toBeDefined();
    expect(await findInteraction(ctx.deps.db, 'CAnew')).toBeDefined();
    expect(ctx.logger.lines).toContainEqual(
      expect.objectContaining({ message: 'retention: expired rows deleted' }),
    );
  });

  it('forgets event ids past the de-duplication window, so only recent redeliveries are caught', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '90' }, deps: { now: () => NOW } });
    await claimEvent(ctx.deps.db, 'twilio', 'old', NOW - 31 * DAY);
    await claimEvent(ctx.deps.db, 'twilio', 'recent', NOW - 29 * DAY);

    const removed = await runRetention(ctx.deps);

    expect(removed.processedEvents).toBe(1);
    expect(await claimEvent(ctx.deps.db, 'twilio', 'old', NOW)).toBe(true);
    expect(await claimEvent(ctx.deps.db, 'twilio', 'recent', NOW)).toBe(false);
  });

  it('never keeps event ids longer than the interactions they de-duplicate', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '7' }, deps: { now: () => NOW } });
    await claimEvent(ctx.deps.db, 'auth0', 'eight-days', NOW - 8 * DAY);
    expect((await runRetention(ctx.deps)).processedEvents).toBe(1);
  });

  it('works through more expired rows than one batch', async () => {
    ctx = await createTestContext({ deps: { now: () => NOW } });
    for (let i = 0; i < 7; i++) {
      await seedInteraction(ctx, `${i}`, NOW - 400 * DAY);
      await claimEvent(ctx.deps.db, 'log-stream', `e${i}`, NOW - 400 * DAY);
    }
    await seedInteraction(ctx, 'keep', NOW);

    const removed = await purgeExpired(
      ctx.deps.db,
      { interactionsBefore: NOW - DAY, eventsBefore: NOW - DAY, auditBefore: NOW - DAY, now: NOW },
      3,
    );

    expect(removed).toMatchObject({ interactions: 7, processedEvents: 7 });
    expect(await findInteraction(ctx.deps.db, 'CAkeep')).toBeDefined();
  });
});

describe('retention of what surrounds the interactions', () => {
  it('deletes caller verifications, OTP deliveries, enrollment decisions and /verify data past RETENTION_DAYS', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '30' }, deps: { now: () => NOW } });
    await seedAt(ctx, 'old', OLD);
    await seedAt(ctx, 'recent', NOW - 60_000);

    const removed = await runRetention(ctx.deps);

    expect(removed).toMatchObject({
      interactions: 1,
      callerVerifications: 1,
      otpDeliveries: 1,
      enrollmentDecisions: 1,
    });
    expect(await left(ctx, 'interactions', 'id')).toEqual(['recent']);
    expect(await left(ctx, 'caller_verifications', 'interaction_id')).toEqual(['recent']);
    expect(await left(ctx, 'otp_deliveries', 'id')).toEqual(['recent']);
    expect(await left(ctx, 'enrollment_decisions', 'user_id')).toEqual(['recent']);
    expect(await left(ctx, 'verify_attempts', 'user_id')).toEqual(['recent']);
    // Sessions and used tokens go when they expire (the recent ones have not yet).
    expect(await left(ctx, 'verify_sessions', 'id')).toEqual(['recent']);
    expect(await left(ctx, 'verify_used_tokens', 'token_hash')).toEqual(['recent']);
  });

  it('keeps the audit trail for AUDIT_RETENTION_DAYS (365 by default), longer than the interactions', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '30' }, deps: { now: () => NOW } });
    expect(ctx.config.AUDIT_RETENTION_DAYS).toBe(365);
    for (const [target, at] of [
      ['a-366-days', NOW - 366 * DAY],
      ['b-364-days', NOW - 364 * DAY],
      ['c-31-days', OLD],
    ] as const)
      await exec(
        ctx,
        `insert into audit_log (at, agent_id, action, target) values (?, 'token:admin', 'lookup', ?)`,
        [at, target],
      );
    expect((await runRetention(ctx.deps)).auditLog).toBe(1);
    expect(await left(ctx, 'audit_log', 'target')).toEqual(['b-364-days', 'c-31-days']);

    ctx.close();
    ctx = await createTestContext({ env: { AUDIT_RETENTION_DAYS: '30' }, deps: { now: () => NOW } });
    await exec(
      ctx,
      `insert into audit_log (at, agent_id, action, target) values (?, 'token:admin', 'lookup', 'x')`,
      [OLD],
    );
    await exec(
      ctx,
      `insert into audit_log (at, agent_id, action, target) values (?, 'token:admin', 'lookup', 'y')`,
      [RECENT],
    );
    expect((await runRetention(ctx.deps)).auditLog).toBe(1);
    expect(await left(ctx, 'audit_log', 'target')).toEqual(['y']);
  });

  it('forgets the seen users of abandoned runs and of dry runs older than a day, not of runs in progress', async () => {
    ctx = await createTestContext({ deps: { now: () => NOW } });
    for (const [id, status] of [
      ['abandoned-run', 'abandoned'],
      ['running-run', 'running'],
      ['failed-run', 'failed'],
    ] as const)
      await exec(
        ctx,
        `insert into backfill_runs (id, source_key, source, status, snapshot_at, started_at, updated_at)
         values (?, 'file:x', 'x', ?, 0, 0, 0)`,
        [id, status],
      );
    const runs = [
      'abandoned-run',
      'running-run',
      'failed-run',
      `dry-${NOW - 2 * DAY}-a`,
      `dry-${NOW - 60_000}-b`,
    ];
    for (const run of runs)
      await exec(ctx, `insert into backfill_seen (run_id, user_id) values (?, 'auth0|alice')`, [run]);

    expect((await runRetention(ctx.deps)).backfillSeen).toBe(2);
    expect(await left(ctx, 'backfill_seen', 'run_id')).toEqual([
      `dry-${NOW - 60_000}-b`,
      'failed-run',
      'running-run',
    ]);
  });
});
