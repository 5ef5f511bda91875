import { afterEach, describe, expect, it } from 'vitest';
import {
  ALICE,
  type Auth0Fixture,
  BOB,
  createAuth0Fixture,
  deliverEvent,
  rows,
} from '../../test/support/auth0-context.js';
import { postAuth0Event } from '../../test/support/auth0-sign.js';
import { TEST_ENV } from '../../test/support/context.js';
import { twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import type { ConfigInput } from '../config.js';
import { upsertAccounts, upsertLinks } from '../phone-index/index.js';
import { findPolicyWarnings, listEnrollmentDecisions } from './queries.js';

const NUMBER = '+14155550100';
const OTHER = '+14155550133';
const AUTH = { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` };
const BLOCK_MESSAGE = 'Please choose another phone number.';
const MALLORY = {
  user_id: 'auth0|mallory',
  email: 'mallory@example.com',
  connection: 'Username-Password-Authentication',
};

async function enroll(f: Auth0Fixture, user: Record<string, unknown>, recipient = NUMBER) {
  const res = await postAuth0Event(f.ctx.app, deliverEvent({ user, recipient }));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** Alice types the code and signs in: post-login proves the number her latest code went to. */
async function confirm(f: Auth0Fixture, user: Record<string, unknown>) {
  const now = new Date().toISOString();
  const res = await postAuth0Event(f.ctx.app, {
    type: 'user.login',
    occurred_at: Date.now(),
    user,
    mfa: {
      multifactor: ['guardian'],
      enrolled_factors: [{ type: 'phone' }],
      methods: [
        { name: 'pwd', timestamp: now },
        { name: 'mfa', type: 'phone', timestamp: now },
      ],
    },
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { applied: string[] }).applied).toContain('mfa_verified');
}

async function check(f: Auth0Fixture, user: Record<string, unknown>, phone = NUMBER) {
  const res = await postAuth0Event(f.ctx.app, {
    type: 'phone.enrollment_check',
    occurred_at: Date.now(),
    user,
    phone_number: phone,
    channel: 'sms',
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('one number per user', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());
  const setup = async (env: ConfigInput = {}) => {
    f = await createAuth0Fixture({ env: { ENROLLMENT_BLOCK_MESSAGE: BLOCK_MESSAGE, ...env } });
  };

  it('defaults to warn: lets a second account through, flags it, and records who already had the number', async () => {
    await setup();
    expect(f.ctx.config.ENROLLMENT_POLICY).toBe('warn');
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    const second = await enroll(f, BOB);
    expect(second).toMatchObject({ delivered: true, enrollment: { allowed: true, decision: 'warn' } });
    expect(f.twilio.messages).toHaveLength(2);

    const decisions = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(decisions.map((d) => [d.userId, d.decision, d.reason])).toEqual([
      ['auth0|bob', 'warn', 'conflict'],
      ['auth0|alice', 'allow', 'no_conflict'],
    ]);
    expect(decisions[0]?.conflicting).toEqual([{ userId: 'auth0|alice', sources: ['mfa_sms'] }]);
    expect(decisions[0]).toMatchObject({ policy: 'warn', channel: 'sms', trigger: 'send-phone-message' });

    const warnings = await findPolicyWarnings(f.ctx.deps.db, NUMBER);
    expect(warnings).toMatchObject([{ userId: 'auth0|bob', conflicting: [{ userId: 'auth0|alice' }] }]);
  });

  it('flags a call from a warned number and its lookup for the agent, and nothing else', async () => {
    await setup();
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    await enroll(f, BOB, NUMBER);
    await enroll(f, ALICE, OTHER);

    const call = async (from: string) => {
      const params = voiceParams(from);
      expect((await f.ctx.app.request(twilioFormRequest('/twilio/voice', params))).status).toBe(200);
      const res = await f.ctx.app.request(`/api/interactions/${params.CallSid}`, { headers: AUTH });
      return (await res.json()) as { flags: Record<string, unknown>; policyWarning: boolean };
    };
    const lookup = async (phone: string) => {
      const res = await f.ctx.app.request(`/api/lookup?phone=${encodeURIComponent(phone)}`, {
        headers: AUTH,
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { policyWarning: boolean; matches: { userId: string }[] };
    };

    const warned = await call(NUMBER);
    expect(warned.flags).toMatchObject({ sharedLine: true, policyWarning: true });
    expect(warned.policyWarning).toBe(true);
    expect(await lookup(NUMBER)).toMatchObject({ policyWarning: true, sharedLine: true });

    // Alice's own second number went through without a conflict: no warning.
    const plain = await call(OTHER);
    expect(plain.flags.policyWarning).toBeUndefined();
    expect(plain.policyWarning).toBe(false);
    expect(await lookup(OTHER)).toMatchObject({ policyWarning: false, matches: [{ userId: 'auth0|alice' }] });
    expect(await lookup('+14155550177')).toMatchObject({ policyWarning: false, matches: [] });
  });

  it('drops the warning once the warned enrollment is gone', async () => {
    await setup();
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    await enroll(f, BOB);
    expect(await findPolicyWarnings(f.ctx.deps.db, NUMBER)).toHaveLength(1);
    await f.ctx.deps.db.$client.execute({
      sql: "update phone_links set removed_at = ? where user_id = 'auth0|bob'",
      args: [Date.now()],
    });
    const res = await f.ctx.app.request(`/api/lookup?phone=${encodeURIComponent(NUMBER)}`, { headers: AUTH });
    expect(await res.json()).toMatchObject({ policyWarning: false, matches: [{ userId: 'auth0|alice' }] });
    expect(await findPolicyWarnings(f.ctx.deps.db, NUMBER)).toEqual([]);
  });

  it('blocks a number another account signs in with, without saying whose, and sends nothing', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    const refused = await enroll(f, BOB);
    expect(refused).toEqual({
      delivered: false,
      retryable: false,
      reason: 'enrollment_refused',
      message: BLOCK_MESSAGE,
      enrollment: { allowed: false, decision: 'block', message: BLOCK_MESSAGE },
    });
    expect(JSON.stringify(refused)).not.toContain('alice');
    expect(f.twilio.messages).toHaveLength(1);
    expect(await rows(f.ctx, "select user_id from phone_links where user_id = 'auth0|bob'")).toEqual([]);
    expect(
      await rows(f.ctx, "select status, reason from otp_deliveries where user_id = 'auth0|bob'"),
    ).toEqual([{ status: 'refused', reason: 'enrollment_refused' }]);
    const [decision] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(decision).toMatchObject({
      decision: 'block',
      conflicting: [{ userId: 'auth0|alice', sources: ['mfa_sms'] }],
    });
    expect(await check(f, BOB)).toEqual({ allowed: false, decision: 'block', message: BLOCK_MESSAGE });
  });

  it('does not let an enrollment nobody completed claim the number (block)', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    // Mallory types Alice's number and never enters the code.
    await enroll(f, MALLORY);
    // Alice enrolls her own number: no conflict, her code is sent, and her confirmation verifies it.
    expect(await enroll(f, ALICE)).toMatchObject({
      delivered: true,
      enrollment: { allowed: true, decision: 'allow' },
    });
    const [latest] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(latest).toMatchObject({ userId: 'auth0|alice', reason: 'no_conflict', conflicting: [] });
    await confirm(f, ALICE);
    // Once Alice proved it, the attacker is the one refused.
    expect(await check(f, MALLORY)).toEqual({ allowed: false, decision: 'block', message: BLOCK_MESSAGE });
    // Under warn nothing is flagged for agents either.
    expect(await findPolicyWarnings(f.ctx.deps.db, NUMBER)).toEqual([]);
  });

  it('decides MFA enrollments only: codes of other flows, or of no known flow, pass and are not decided', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    const send = async (body: ReturnType<typeof deliverEvent>) => {
      const res = await postAuth0Event(f.ctx.app, body);
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const custom = { trigger: 'custom-phone-provider', purpose: 'enrollment' };
    // A passwordless first login, a sign-up phone check, and an unclassified code, each for another account.
    expect(await send(deliverEvent({ ...custom, flow: 'passwordless', user: null, code: '100001' }))).toEqual(
      {
        delivered: true,
        sid: expect.any(String),
      },
    );
    expect(
      await send(deliverEvent({ ...custom, flow: 'phone_identifier', user: BOB, code: '100002' })),
    ).toEqual({
      delivered: true,
      sid: expect.any(String),
    });
    expect(await send(deliverEvent({ ...custom, flow: 'unclassified', user: BOB, code: '100003' }))).toEqual({
      delivered: true,
      sid: expect.any(String),
    });
    // An older custom-phone-provider script sends no flow: not taken for MFA either.
    expect(await send(deliverEvent({ ...custom, user: BOB, code: '100004' }))).toMatchObject({
      delivered: true,
    });
    // "mfa" without a user cannot be MFA.
    expect(await send(deliverEvent({ ...custom, flow: 'mfa', user: null, code: '100005' }))).toMatchObject({
      delivered: true,
    });
    // The same enrollment as MFA is refused, by either trigger.
    expect(await send(deliverEvent({ ...custom, flow: 'mfa', user: BOB, code: '100006' }))).toMatchObject({
      delivered: false,
      reason: 'enrollment_refused',
    });
    expect(await send(deliverEvent({ user: BOB, code: '100007' }))).toMatchObject({
      reason: 'enrollment_refused',
    });

    const decisions = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(decisions.map((d) => [d.userId, d.decision])).toEqual([
      ['auth0|bob', 'block'],
      ['auth0|bob', 'block'],
      ['auth0|alice', 'allow'],
    ]);
    // Only Alice's MFA link: no code of the other flows made one.
    expect(await rows(f.ctx, 'select user_id, source from phone_links')).toEqual([
      { user_id: 'auth0|alice', source: 'mfa_sms' },
    ]);
  });

  it('still counts a passwordless login as a conflict, verified flag or not', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'sms|6612', source: 'passwordless', verified: false, at: Date.now() },
    ]);
    expect(await check(f, BOB)).toEqual({ allowed: false, decision: 'block', message: BLOCK_MESSAGE });
  });

  it('lets the same user re-enroll its own number', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    await enroll(f, ALICE);
    expect(await enroll(f, ALICE)).toMatchObject({ delivered: true, enrollment: { decision: 'allow' } });
    const [latest] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(latest).toMatchObject({ reason: 'same_person', conflicting: [] });
  });

  it('lets accounts linked to the same person share the number (identities or primary user)', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    // Alice signs in passwordless with the number; her database account has it linked.
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'sms|alice', source: 'passwordless', at: Date.now() },
    ]);
    const primary = {
      ...ALICE,
      identities: [
        { provider: 'auth0', user_id: 'alice' },
        { provider: 'sms', user_id: 'alice' },
      ],
    };
    expect(await check(f, primary)).toEqual({ allowed: true, decision: 'allow' });

    // The other way round: the secondary account enrolls, the index knows its primary.
    await upsertAccounts(f.ctx.deps.db, [
      { userId: 'sms|carol', primaryUserId: 'auth0|carol', at: Date.now() },
    ]);
    await upsertLinks(f.ctx.deps.db, [
      { e164: '+14155550122', userId: 'auth0|carol', source: 'mfa_sms', verified: true, at: Date.now() },
    ]);
    expect(await check(f, { user_id: 'sms|carol' }, '+14155550122')).toMatchObject({ allowed: true });
    expect(await check(f, BOB, '+14155550122')).toMatchObject({ allowed: false });
  });

  it('always allows configured shared numbers, written in any format', async () => {
    await setup({ ENROLLMENT_POLICY: 'block', SHARED_NUMBERS: '(415) 555-0100, +44 20 7123 4567' });
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    expect(await enroll(f, BOB)).toMatchObject({
      delivered: true,
      enrollment: { allowed: true, decision: 'allow' },
    });
    const [latest] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(latest).toMatchObject({ reason: 'shared_number', conflicting: [{ userId: 'auth0|alice' }] });
  });

  it('does not count a profile phone number as someone signing in with it', async () => {
    await setup({ ENROLLMENT_POLICY: 'block' });
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'profile', at: Date.now() },
    ]);
    expect(await check(f, BOB)).toEqual({ allowed: true, decision: 'allow' });
  });

  it('under allow, records the conflict but changes nothing', async () => {
    await setup({ ENROLLMENT_POLICY: 'allow' });
    await enroll(f, ALICE);
    await confirm(f, ALICE);
    expect(await enroll(f, BOB)).toMatchObject({ delivered: true, enrollment: { decision: 'allow' } });
    const [latest] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(latest).toMatchObject({ decision: 'allow', reason: 'conflict', policy: 'allow' });
    expect(await findPolicyWarnings(f.ctx.deps.db, NUMBER)).toEqual([]);
  });

  it('answers 400 for an unreadable number in a check, and records nothing', async () => {
    await setup();
    const res = await postAuth0Event(f.ctx.app, {
      type: 'phone.enrollment_check',
      occurred_at: Date.now(),
      user: ALICE,
      phone_number: 'not a number',
    });
    expect(res.status).toBe(400);
    expect(await rows(f.ctx, 'select count(*) as n from enrollment_decisions')).toEqual([{ n: 0 }]);
    expect(await rows(f.ctx, 'select count(*) as n from processed_events')).toEqual([{ n: 0 }]);
  });
});
