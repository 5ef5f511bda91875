import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auth0User,
  loadAction,
  type PostLoginModule,
  type PostUserRegistrationModule,
  postLoginApi,
  postLoginEvent,
  postUserRegistrationEvent,
  type SendPhoneMessageModule,
  sendPhoneMessageEvent,
  serveApp,
} from '../../test/support/auth0-actions.js';
import { type Auth0Fixture, createAuth0Fixture } from '../../test/support/auth0-context.js';
import { TEST_ENV } from '../../test/support/context.js';
import { listOtpDeliveries } from '../otp/index.js';
import { listEnrollmentDecisions } from './queries.js';

/**
 * The whole life of one phone number, driven only through the public surfaces: the Action scripts (run as
 * Auth0 runs them) and Log Streams, with `GET /api/lookup` after every step showing what a call from the
 * number would pop.
 */

const NUMBER = '+14155550100';
const BLOCK_MESSAGE = 'Please use a different phone number.';

interface LookupBody {
  e164: string;
  sharedLine: boolean;
  matches: {
    rank: number;
    userId: string;
    email: string;
    sources: string[];
    verified: boolean;
    evidence: string;
  }[];
}

describe('a phone number from registration to release', () => {
  let f: Auth0Fixture;
  let served: Awaited<ReturnType<typeof serveApp>>;
  const { onExecutePostUserRegistration } = loadAction<PostUserRegistrationModule>('post-user-registration');
  const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
  const { onExecuteSendPhoneMessage } = loadAction<SendPhoneMessageModule>('send-phone-message');

  const alice = auth0User();
  const bob = auth0User({
    user_id: 'auth0|bob',
    email: 'bob@example.com',
    name: 'Bob Example',
    given_name: 'Bob',
  });

  beforeAll(async () => {
    f = await createAuth0Fixture({
      env: { ENROLLMENT_POLICY: 'block', ENROLLMENT_BLOCK_MESSAGE: BLOCK_MESSAGE },
    });
    served = await serveApp(f.ctx.app);
  });
  afterAll(async () => {
    await served.close();
    await f.close();
  });

  /** What a call from NUMBER would pop, as the lookup API reports it. */
  async function pop() {
    const res = await fetch(`${served.url}/api/lookup?phone=${encodeURIComponent('(415) 555-0100')}`, {
      headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as LookupBody;
    expect(body.e164).toBe(NUMBER);
    return {
      sharedLine: body.sharedLine,
      matches: body.matches.map(({ rank, userId, email, sources, verified, evidence }) => ({
        rank,
        userId,
        email,
        sources,
        verified,
        evidence,
      })),
    };
  }

  async function logStream(events: unknown[]) {
    const res = await fetch(`${served.url}/auth0/log-stream`, {
      method: 'POST',
      headers: { authorization: TEST_ENV.AUTH0_LOG_STREAM_TOKEN, 'content-type': 'application/json' },
      body: events.map((e) => JSON.stringify(e)).join('\n'),
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  it('1. registration: the user is known, the number pops nobody yet', async () => {
    await onExecutePostUserRegistration(postUserRegistrationEvent(served.url, alice));
    expect(await pop()).toEqual({ sharedLine: false, matches: [] });
  });

  it('2. MFA enrollment: callerpop delivers the code and the number pops Alice, unverified', async () => {
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { user: alice, code: '650214' }));
    expect(f.twilio.messages).toHaveLength(1);
    expect(f.twilio.messages[0]).toMatchObject({ to: NUMBER });
    expect(f.twilio.messages[0]?.body).toContain('650214');
    expect(await pop()).toEqual({
      sharedLine: false,
      matches: [
        {
          rank: 1,
          userId: 'auth0|alice',
          email: 'alice@example.com',
          sources: ['mfa_sms'],
          verified: false,
          evidence: 'MFA phone, not yet verified',
        },
      ],
    });
  });

  it('3. a login that completes phone MFA verifies the number', async () => {
    const user = { ...alice, multifactor: ['guardian'], enrolledFactors: [{ type: 'phone' }] };
    const now = new Date().toISOString();
    await onExecutePostLogin(
      postLoginEvent(served.url, {
        user,
        methods: [
          { name: 'pwd', timestamp: now },
          { name: 'mfa', type: 'phone', timestamp: now },
        ],
      }),
      postLoginApi().api,
    );
    expect(await pop()).toEqual({
      sharedLine: false,
      matches: [
        {
          rank: 1,
          userId: 'auth0|alice',
          email: 'alice@example.com',
          sources: ['mfa_sms'],
          verified: true,
          evidence: 'verified MFA phone',
        },
      ],
    });
  });

  it('4. under block, a second user is refused the number and nothing changes', async () => {
    await onExecutePostUserRegistration(postUserRegistrationEvent(served.url, bob));
    await expect(onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { user: bob }))).rejects.toThrow(
      BLOCK_MESSAGE,
    );
    expect(f.twilio.messages).toHaveLength(1);
    expect((await pop()).matches.map((m) => m.userId)).toEqual(['auth0|alice']);
    const [decision] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(decision).toMatchObject({
      userId: 'auth0|bob',
      decision: 'block',
      conflicting: [{ userId: 'auth0|alice', sources: ['mfa_sms'] }],
    });
    expect(await listOtpDeliveries(f.ctx.deps.db, NUMBER)).toMatchObject([
      { userId: 'auth0|bob', status: 'refused', reason: 'enrollment_refused' },
      { userId: 'auth0|alice', status: 'sent' },
    ]);
  });

  it('5. Alice unenrolls (Log Streams): the number pops nobody, and a redelivery changes nothing', async () => {
    const unenroll = {
      log_id: '90020241122060000123456789',
      data: {
        date: new Date().toISOString(),
        type: 'gd_unenroll',
        description: 'Guardian - Unenroll device (sms)',
        user_id: 'auth0|alice',
        details: { authenticator: { type: 'sms', phone_number: NUMBER } },
      },
    };
    expect(await logStream([unenroll])).toMatchObject({ applied: 1 });
    expect(await pop()).toEqual({ sharedLine: false, matches: [] });
    expect(await logStream([unenroll])).toMatchObject({ applied: 0, duplicates: 1 });
    expect(await pop()).toEqual({ sharedLine: false, matches: [] });
  });

  it('6. the number is free again: Bob enrolls it and it pops Bob', async () => {
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { user: bob, code: '118822' }));
    expect(f.twilio.messages).toHaveLength(2);
    expect(f.twilio.messages[1]).toMatchObject({ to: NUMBER });
    expect(await pop()).toEqual({
      sharedLine: false,
      matches: [
        {
          rank: 1,
          userId: 'auth0|bob',
          email: 'bob@example.com',
          sources: ['mfa_sms'],
          verified: false,
          evidence: 'MFA phone, not yet verified',
        },
      ],
    });
    const [decision] = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER);
    expect(decision).toMatchObject({ userId: 'auth0|bob', decision: 'allow', reason: 'no_conflict' });
  });
});
