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

describe('GET /auth0/activity', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  const activity = (phone: string, authorization: string | null = `Bearer ${TEST_ENV.ADMIN_TOKEN}`) =>
    f.ctx.app.request(`/auth0/activity?phone=${encodeURIComponent(phone)}`, {
      headers: authorization ? { authorization } : {},
    });

  it('shows a number’s policy warning, decisions, deliveries and refusals, and audits the read', async () => {
    // One code per (user, number) an hour: Bob's second code to the number is refused.
    f = await createAuth0Fixture({ env: { OTP_RATE_LIMIT_PER_HOUR: '1' } });
    await postAuth0Event(f.ctx.app, deliverEvent({ user: ALICE }));
    // Alice types the code and signs in: her number is proven, so Bob's enrollment is a conflict.
    const now = new Date().toISOString();
    await postAuth0Event(f.ctx.app, {
      type: 'user.login',
      occurred_at: Date.now(),
      user: ALICE,
      mfa: {
        enrolled_factors: [{ type: 'phone' }],
        methods: [
          { name: 'pwd', timestamp: now },
          { name: 'mfa', type: 'phone', timestamp: now },
        ],
      },
    });
    await postAuth0Event(f.ctx.app, deliverEvent({ user: BOB }));
    await postAuth0Event(f.ctx.app, deliverEvent({ user: BOB, purpose: 'authentication' }));

    const res = await activity('(415) 555-0100');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      e164: '+14155550100',
      policyWarning: true,
      policyWarnings: [
        { userId: 'auth0|bob', conflicting: [{ userId: 'auth0|alice', sources: ['mfa_sms'] }] },
      ],
      decisions: [
        { userId: 'auth0|bob', decision: 'warn' },
        { userId: 'auth0|alice', decision: 'allow' },
      ],
      deliveries: [
        { userId: 'auth0|bob', status: 'refused', reason: 'rate_limited_number', purpose: 'authentication' },
        { userId: 'auth0|bob', status: 'sent', purpose: 'enrollment' },
        { userId: 'auth0|alice', status: 'sent', purpose: 'enrollment' },
      ],
    });
    expect(JSON.stringify(body)).not.toContain('codeHash');
    expect(await rows(f.ctx, 'select agent_id, action, target from audit_log')).toEqual([
      { agent_id: 'api:admin-token', action: 'lookup', target: '+14155550100' },
    ]);
  });

  it('needs the admin token (or an agent session) and a readable number', async () => {
    f = await createAuth0Fixture();
    expect((await activity('+14155550100', null)).status).toBe(401);
    expect((await activity('+14155550100', `Bearer ${TEST_ENV.AUTH0_LOG_STREAM_TOKEN}`)).status).toBe(401);
    expect((await activity('not a number')).status).toBe(400);
    expect(await (await activity('+14155550100')).json()).toEqual({
      e164: '+14155550100',
      policyWarning: false,
      policyWarnings: [],
      decisions: [],
      deliveries: [],
    });
  });
});
