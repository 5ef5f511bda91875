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
import { type FakeTwilio, startFakeTwilio } from '../../test/support/fake-twilio.js';
import { twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import {
  createVerifyHarness,
  newUser,
  PageClient,
  type VerifyHarness,
} from '../../test/support/verify-harness.js';
import { upsertLinks } from '../phone-index/index.js';

/**
 * The toll-fraud budget through the real paths that spend it: the OTP relay (a signed Auth0 event), the IVR's
 * caller check (signed Twilio webhooks) and /verify (a browser session opened by the Action's token), each
 * sending through its loopback Twilio.
 */

type Answer = { delivered: boolean; reason?: string };

async function deliver(f: Auth0Fixture, options: Parameters<typeof deliverEvent>[0] = {}): Promise<Answer> {
  const at = f.clock.now;
  const res = await postAuth0Event(f.ctx.app, deliverEvent({ at, ...options }), { timestamp: new Date(at) });
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

const user = (n: number) => ({ ...ALICE, user_id: `auth0|user${n}` });

describe('destinations with no country', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  // Inmarsat (+870), Iridium-style satellite (+881), international networks (+882) and shared (+883) numbers:
  // valid numbers of types a person answers, but with no country whose rates or rules apply.
  const NO_COUNTRY = ['+870773111632', '+881612345678', '+8821612345678', '+883510012345678'];

  it('refuses them by default, even when every country is allowed', async () => {
    f = await createAuth0Fixture();
    for (const recipient of NO_COUNTRY)
      expect(await deliver(f, { recipient }), recipient).toMatchObject({
        delivered: false,
        reason: 'no_country',
      });
    expect(f.twilio.messages).toHaveLength(0);
    expect(await rows(f.ctx, "select count(*) as n from otp_deliveries where reason = 'no_country'")).toEqual(
      [{ n: NO_COUNTRY.length }],
    );
  });

  it('sends to them once 001 is listed; 001 alone restricts no country, and beside countries adds them', async () => {
    f = await createAuth0Fixture({ env: { OTP_ALLOWED_COUNTRIES: '001' } });
    for (const recipient of [...NO_COUNTRY, '+447400123456', '+14155550100'])
      expect((await deliver(f, { recipient, user: user(recipient.length) })).delivered, recipient).toBe(true);
    await f.close();

    f = await createAuth0Fixture({ env: { OTP_ALLOWED_COUNTRIES: 'us,001' } });
    expect((await deliver(f, { recipient: '+881612345678' })).delivered).toBe(true);
    expect((await deliver(f, { recipient: '+14155550100' })).delivered).toBe(true);
    expect(await deliver(f, { recipient: '+447400123456' })).toMatchObject({ reason: 'country_not_allowed' });
  });
});

describe('per destination range, across users', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  it('stops a walk through one range spread over many accounts, but not codes to a number already sent to', async () => {
    f = await createAuth0Fixture({ env: { OTP_RANGE_HOURLY_LIMIT: '3' } });
    // Four accounts, four numbers of +1415555 01xx: the fourth different number in the range is refused.
    for (let i = 1; i <= 3; i++)
      expect((await deliver(f, { user: user(i), recipient: `+1415555010${i}` })).delivered).toBe(true);
    expect(await deliver(f, { user: user(4), recipient: '+14155550104' })).toMatchObject({
      delivered: false,
      reason: 'rate_limited_range',
    });
    // A number of the range already sent to this hour is not a new step of the walk.
    expect((await deliver(f, { user: user(1), recipient: '+14155550101' })).delivered).toBe(true);
    // Another range is another budget.
    expect((await deliver(f, { user: user(5), recipient: '+14155551104' })).delivered).toBe(true);
    const refused = await rows(f.ctx, "select range from otp_deliveries where reason = 'rate_limited_range'");
    expect(refused).toEqual([{ range: '+14155550' }]);

    f.clock.advance(61 * 60 * 1000);
    expect((await deliver(f, { user: user(4), recipient: '+14155550104' })).delivered).toBe(true);
  });

  it('never holds back a number its user has proven, whoever walked the range', async () => {
    f = await createAuth0Fixture({ env: { OTP_RANGE_HOURLY_LIMIT: '2' } });
    // Bob proved +1 415 555 0199 (a completed MFA enrollment: a verified link in the index).
    await upsertLinks(f.ctx.deps.db, [
      {
        e164: '+14155550199',
        userId: BOB.user_id,
        source: 'mfa_sms',
        verified: true,
        at: f.clock.now - 1000,
      },
    ]);
    for (let i = 1; i <= 2; i++)
      expect((await deliver(f, { user: user(i), recipient: `+1415555010${i}` })).delivered).toBe(true);
    expect(await deliver(f, { user: user(3), recipient: '+14155550103' })).toMatchObject({
      reason: 'rate_limited_range',
    });
    // Proven for Bob is not proven for a stranger who types Bob's number in.
    expect(await deliver(f, { user: user(9), recipient: '+14155550199' })).toMatchObject({
      reason: 'rate_limited_range',
    });
    expect(
      (await deliver(f, { user: BOB, recipient: '+14155550199', purpose: 'authentication' })).delivered,
    ).toBe(true);
  });
});

describe('the hourly budgets', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  it('caps sends per country, then lets the hour pass', async () => {
    f = await createAuth0Fixture({ env: { OTP_COUNTRY_HOURLY_BUDGET: '2' } });
    expect((await deliver(f, { user: user(1), recipient: '+14155550101' })).delivered).toBe(true);
    expect((await deliver(f, { user: user(2), recipient: '+12125550102' })).delivered).toBe(true);
    expect(await deliver(f, { user: user(3), recipient: '+13125550103' })).toMatchObject({
      reason: 'country_budget_spent',
    });
    // Canada has its own budget (+1 is shared; the country is what counts).
    expect((await deliver(f, { user: user(4), recipient: '+16135550104' })).delivered).toBe(true);
    expect(JSON.stringify(f.ctx.logger.lines)).toContain('country_budget_spent');
    f.clock.advance(61 * 60 * 1000);
    expect((await deliver(f, { user: user(3), recipient: '+13125550103' })).delivered).toBe(true);
  });

  it('does not count sends Twilio refused', async () => {
    f = await createAuth0Fixture({ env: { OTP_HOURLY_BUDGET: '1' } });
    f.twilio.failNext(1, {
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
    });
    expect((await deliver(f, { user: user(1), recipient: '+14155550101' })).delivered).toBe(false);
    expect((await deliver(f, { user: user(2), recipient: '+14155550102' })).delivered).toBe(true);
    expect(await deliver(f, { user: user(3), recipient: '+14155550103' })).toMatchObject({
      reason: 'hourly_budget_spent',
    });
  });
});

describe('message length', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  it('sends the code alone when Auth0’s text runs over OTP_MAX_SEGMENTS, and nothing without a code', async () => {
    f = await createAuth0Fixture({ env: { OTP_MAX_SEGMENTS: '1' } });
    // 161 GSM-7 characters are two segments; 71 UCS-2 characters (an emoji makes the text UCS-2) too.
    for (const text of [`482910 ${'x'.repeat(154)}`, `482910 😀 ${'x'.repeat(61)}`]) {
      const before = f.twilio.messages.length;
      expect((await deliver(f, { code: '482910', text, user: user(text.length) })).delivered).toBe(true);
      expect(f.twilio.messages.slice(before).map((m) => m.body)).toEqual([
        'Your verification code is 482910',
      ]);
    }
    const fits = `482910 ${'x'.repeat(153)}`;
    expect((await deliver(f, { code: '482910', text: fits, user: user(99) })).delivered).toBe(true);
    expect(f.twilio.messages.at(-1)?.body).toBe(fits);

    expect(await deliver(f, { code: null, text: 'y'.repeat(400), user: user(98) })).toMatchObject({
      delivered: false,
      reason: 'message_too_long',
    });
  });
});

describe('one budget for every surface', () => {
  let h: VerifyHarness;
  let rest: FakeTwilio;
  afterEach(async () => {
    await h?.close();
    await rest?.close();
  });

  it('counts the relay, the IVR’s caller check and /verify against the same hourly budget', async () => {
    rest = await startFakeTwilio({
      accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
      authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
    });
    h = await createVerifyHarness({
      env: {
        OTP_HOURLY_BUDGET: '3',
        VERIFY_CALLER: 'always',
        TWILIO_API_BASE_URL: rest.url,
        TWILIO_FROM_NUMBER: '+15005550006',
      },
    });
    const { app } = h.ctx;
    const relay = async (recipient: string, id: string) => {
      const event = deliverEvent({ at: h.clock.now, recipient, user: { ...ALICE, user_id: id } });
      return (await (
        await postAuth0Event(app, event, { timestamp: new Date(h.clock.now) })
      ).json()) as Answer;
    };
    const ivr = async (from: string) => {
      const params = voiceParams(from);
      await app.request(twilioFormRequest('/twilio/voice', params));
      const start = `/twilio/voice/verify/start?interaction=${params.CallSid}`;
      return (await app.request(twilioFormRequest(start, params))).text();
    };
    const verifyPage = async (id: string, phone: string) => {
      const { redirectUrl } = await h.tenant.login(h.action, newUser(id)).execute();
      const page = new PageClient(h.ctx);
      expect((await page.get(redirectUrl ?? '')).status).toBe(303);
      return page.post('/verify/number', { csrf: await page.csrf(), phone, channel: 'sms' });
    };

    expect((await relay('+14155550101', 'auth0|r1')).delivered).toBe(true);
    expect(await ivr('+14155550102')).toContain('<Gather');
    expect((await verifyPage('auth0|v1', '+14155550103')).status).toBe(303);
    expect(rest.messages).toHaveLength(2);
    expect(h.twilio.inbox).toHaveLength(1);

    // The budget is spent: each surface now refuses, in its own way.
    expect(await relay('+14155550104', 'auth0|r2')).toMatchObject({ reason: 'hourly_budget_spent' });
    const routed = await ivr('+14155550105');
    expect(routed).toContain('<Enqueue>support</Enqueue>');
    expect(routed).not.toContain('<Gather');
    const page = await verifyPage('auth0|v2', '+14155550106');
    expect(page.status).toBe(429);
    expect(await page.text()).toContain('Codes cannot be sent just now');
    expect(rest.messages).toHaveLength(2);
    expect(h.twilio.inbox).toHaveLength(1);
    const spent = await h.ctx.deps.db.$client.execute(
      "select purpose from otp_deliveries where reason = 'hourly_budget_spent' order by purpose",
    );
    expect(spent.rows.map((r) => r.purpose)).toEqual([
      'caller_verification',
      'enrollment',
      'phone_verification',
    ]);
  });
});
