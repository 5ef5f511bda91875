import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { upsertAccounts, upsertLinks } from '../src/db/index-writes.js';
import { matchNumber } from '../src/services/matching.js';
import { rows } from './support/auth0-context.js';
import { createTestContext, TEST_ENV, type TestContext } from './support/context.js';

const NUMBER = '+14155550100';
const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A tenant log event as Auth0's custom webhook stream sends it. */
function logEvent(logId: string, type: string, date: number, data: Record<string, unknown> = {}) {
  return {
    log_id: logId,
    data: {
      date: iso(date),
      type,
      description: data.description ?? '',
      client_id: 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww',
      ip: '203.0.113.7',
      user_agent: 'Chrome 130.0.0 / Mac OS X 10.15.7',
      user_id: 'auth0|alice',
      log_id: logId,
      ...data,
    },
  };
}

describe('POST /auth0/log-stream', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());

  const send = (body: string, authorization: string | null = TEST_ENV.AUTH0_LOG_STREAM_TOKEN) =>
    ctx.app.request('/auth0/log-stream', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body,
    });
  const sendEvents = async (events: unknown[]) => {
    const res = await send(JSON.stringify(events));
    expect(res.status).toBe(200);
    return res.json();
  };
  const live = async () => (await matchNumber(ctx.deps.db, NUMBER)).matches.map((m) => m.userId);

  async function enrolled(at = T0) {
    await upsertAccounts(ctx.deps.db, [{ userId: 'auth0|alice', email: 'alice@example.com', at }]);
    await upsertLinks(ctx.deps.db, [{ e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at }]);
  }

  it('takes the token as Auth0 sends it (verbatim) or as a bearer token, and nothing else', async () => {
    const body = JSON.stringify(logEvent('90020', 's', T0));
    expect((await send(body)).status).toBe(200);
    expect((await send(body, `Bearer ${TEST_ENV.AUTH0_LOG_STREAM_TOKEN}`)).status).toBe(200);
    expect((await send(body, null)).status).toBe(401);
    expect((await send(body, 'wrong-token-0123456789abcdef0000')).status).toBe(401);
    expect((await send(body, `${TEST_ENV.AUTH0_LOG_STREAM_TOKEN}x`)).status).toBe(401);
  });

  it('reads JSON lines, a JSON array and a single object', async () => {
    const a = logEvent('1', 'gd_unenroll', T0 + 1, {
      details: { authenticator: { type: 'sms', phone_number: NUMBER } },
    });
    const b = logEvent('2', 's', T0);
    const lines = await send(`${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`);
    expect(await lines.json()).toEqual({ received: 2, applied: 1, duplicates: 0, ignored: 1, invalid: 0 });
    const array = await send(JSON.stringify([logEvent('3', 'f', T0), logEvent('4', 'slo', T0)]));
    expect(await array.json()).toMatchObject({ received: 2, ignored: 2 });
    const single = await send(JSON.stringify(logEvent('5', 'sdu', T0)));
    expect(await single.json()).toMatchObject({ received: 1, applied: 1 });
    const broken = await send('{"log_id": "6"}\n{not json');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toContain('Line 2');
  });

  it('removes an unenrolled number; a redelivery and a late enrollment do not bring it back', async () => {
    await enrolled();
    expect(await live()).toEqual(['auth0|alice']);
    const unenroll = logEvent('100', 'gd_unenroll', T0 + 60_000, {
      description: 'Guardian - Unenroll device (sms)',
      details: { authenticator: { type: 'sms', phone_number: NUMBER } },
    });
    expect(await sendEvents([unenroll])).toMatchObject({ applied: 1 });
    expect(await live()).toEqual([]);
    expect(await sendEvents([unenroll])).toMatchObject({ applied: 0, duplicates: 1 });

    // The enrollment log, delivered late (it happened before the unenrollment).
    const late = logEvent('099', 'gd_enrollment_complete', T0 + 30_000, {
      details: { authenticator: { type: 'sms', phone_number: NUMBER } },
    });
    expect(await sendEvents([late])).toMatchObject({ applied: 1 });
    expect(await live()).toEqual([]);
  });

  it('keeps an unenrollment that arrives before its enrollment as a tombstone', async () => {
    const details = { authenticator: { type: 'sms', phone_number: NUMBER } };
    await sendEvents([logEvent('201', 'gd_unenroll', T0 + 60_000, { details })]);
    await sendEvents([logEvent('200', 'gd_enrollment_complete', T0, { details })]);
    expect(await live()).toEqual([]);
    // A genuinely newer enrollment is live, and verified (the user typed the code).
    await sendEvents([logEvent('202', 'gd_enrollment_complete', T0 + 120_000, { details })]);
    const result = await matchNumber(ctx.deps.db, NUMBER);
    expect(result.matches).toMatchObject([
      { userId: 'auth0|alice', verified: true, evidence: 'verified MFA phone' },
    ]);
  });

  it('without a number in the log, unenrolls every MFA phone of the user but leaves other factors alone', async () => {
    await enrolled();
    await sendEvents([
      logEvent('300', 'gd_unenroll', T0 + 1000, { description: 'Guardian - Unenroll device (otp)' }),
    ]);
    expect(await live()).toEqual(['auth0|alice']);
    await sendEvents([
      logEvent('301', 'gd_unenroll', T0 + 2000, { description: 'Guardian - Unenroll device (sms)' }),
    ]);
    expect(await live()).toEqual([]);
  });

  it('forgets a deleted user for good (sdu), whatever arrives later', async () => {
    await enrolled();
    await upsertLinks(ctx.deps.db, [
      { e164: '+14155550122', userId: 'auth0|alice', source: 'profile', at: T0 },
    ]);
    await sendEvents([logEvent('400', 'sdu', T0 + 60_000)]);
    expect(await live()).toEqual([]);
    expect(await rows(ctx, "select deleted_at from accounts where user_id = 'auth0|alice'")).toEqual([
      { deleted_at: T0 + 60_000 },
    ]);
    // A late enrollment log from before the deletion, and even a newer link write, stay invisible.
    await sendEvents([
      logEvent('399', 'gd_enrollment_complete', T0 + 30_000, {
        details: { authenticator: { type: 'sms', phone_number: NUMBER } },
      }),
    ]);
    await upsertLinks(ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', at: T0 + 90_000 },
    ]);
    expect(await live()).toEqual([]);
  });

  it('moves the profile phone on a phone number change (scpn)', async () => {
    await upsertLinks(ctx.deps.db, [
      { e164: '+14155550122', userId: 'auth0|alice', source: 'profile', at: T0 },
    ]);
    await sendEvents([logEvent('500', 'scpn', T0 + 1000, { details: { phone_number: NUMBER } })]);
    expect(await live()).toEqual(['auth0|alice']);
    expect((await matchNumber(ctx.deps.db, '+14155550122')).matches).toEqual([]);
  });

  it('lets no older enrollment log create a link after an unenrollment that named no number', async () => {
    await enrolled();
    await sendEvents([
      logEvent('700', 'gd_unenroll', T0 + 3000, { description: 'Guardian - Unenroll device (sms)' }),
    ]);
    // Redelivered late: an enrollment of another number, from before the unenrollment.
    await sendEvents([
      logEvent('699', 'gd_enrollment_complete', T0 + 2000, {
        details: { authenticator: { type: 'sms', phone_number: '+14155550122' } },
      }),
    ]);
    expect((await matchNumber(ctx.deps.db, '+14155550122')).matches).toEqual([]);
    expect(await live()).toEqual([]);
    // A newer enrollment is the user enrolling again: live.
    await sendEvents([
      logEvent('701', 'gd_enrollment_complete', T0 + 4000, {
        details: { authenticator: { type: 'sms', phone_number: '+14155550122' } },
      }),
    ]);
    expect((await matchNumber(ctx.deps.db, '+14155550122')).matches).toMatchObject([{ verified: true }]);
  });

  it('keeps only the newest profile phone when phone changes (scpn) arrive out of order', async () => {
    const older = '+14155550131';
    await sendEvents([logEvent('800', 'scpn', T0 + 1000, { details: { phone_number: older } })]);
    await sendEvents([logEvent('802', 'scpn', T0 + 3000, { details: { phone_number: NUMBER } })]);
    // The change to 0133 happened between the two, and arrives last: it is history, not the current phone.
    await sendEvents([logEvent('801', 'scpn', T0 + 2000, { details: { phone_number: '+14155550133' } })]);
    expect(
      await rows(ctx, "select e164 from phone_links where user_id = 'auth0|alice' and removed_at is null"),
    ).toEqual([{ e164: NUMBER }]);
  });

  it('drops the verified flag of a number that went away and came back', async () => {
    await upsertLinks(ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'profile', verified: true, at: T0 },
    ]);
    await sendEvents([logEvent('900', 'scpn', T0 + 1000, { details: { phone_number: '+14155550142' } })]);
    // Back to the first number: scpn says nothing about verification, so it is unverified now.
    await sendEvents([logEvent('901', 'scpn', T0 + 2000, { details: { phone_number: NUMBER } })]);
    expect((await matchNumber(ctx.deps.db, NUMBER)).matches).toMatchObject([
      { userId: 'auth0|alice', verified: false },
    ]);
  });

  it('counts events it cannot read as invalid and still answers 200', async () => {
    const undated = logEvent('600', 'gd_unenroll', T0);
    undated.data.date = 'yesterday';
    const summary = await sendEvents([{ nope: true }, undated, logEvent('601', 's', T0)]);
    expect(summary).toEqual({ received: 3, applied: 0, duplicates: 0, ignored: 1, invalid: 2 });
  });

  it('answers 413 past 1 MiB', async () => {
    const res = await send(JSON.stringify([logEvent('700', 's', T0, { padding: 'x'.repeat(1024 * 1024) })]));
    expect(res.status).toBe(413);
  });
});
