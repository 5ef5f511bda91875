import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../test/support/context.js';
import { claimEvent, findInteraction } from '../db/interactions.js';
import { purgeExpired } from '../db/retention.js';
import { insertWebhookInteractions } from '../db/webhook-queries.js';
import { runRetention } from './retention.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 10, 22, 6, 0, 0);

let ctx: TestContext | undefined;
afterEach(() => ctx?.close());

/** Seeds through the path the webhooks write with. */
async function seedInteraction(c: TestContext, sid: string, createdAt: number) {
  await insertWebhookInteractions(
    c.deps.db,
    [
      {
        id: `id-${sid}`,
        channel: 'voice',
        twilioSid: sid,
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

describe('retention', () => {
  it('deletes interactions older than RETENTION_DAYS and keeps the rest', async () => {
    ctx = await createTestContext({ env: { RETENTION_DAYS: '30' }, deps: { now: () => NOW } });
    await seedInteraction(ctx, 'CAold', NOW - 31 * DAY);
    await seedInteraction(ctx, 'CAedge', NOW - 30 * DAY + 1000);
    await seedInteraction(ctx, 'CAnew', NOW - DAY);

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
      await seedInteraction(ctx, `CA${i}`, NOW - 400 * DAY);
      await claimEvent(ctx.deps.db, 'log-stream', `e${i}`, NOW - 400 * DAY);
    }
    await seedInteraction(ctx, 'CAkeep', NOW);

    const removed = await purgeExpired(
      ctx.deps.db,
      { interactionsBefore: NOW - DAY, eventsBefore: NOW - DAY, auditBefore: NOW - DAY, now: NOW },
      3,
    );

    expect(removed).toMatchObject({ interactions: 7, processedEvents: 7 });
    expect(await findInteraction(ctx.deps.db, 'CAkeep')).toBeDefined();
  });
});
