import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedSharedNumber } from '../../test/support/agent-server.js';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { type FakeTwilio, startFakeTwilio } from '../../test/support/fake-twilio.js';
import { type FormParams, twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import { parseConfig } from '../config.js';
import { findInteraction } from '../inbound/index.js';
import { nullHub, type PushMessage } from '../push/index.js';
import { createTwilioRest } from '../twilio/index.js';
import { CODE_TTL_MS, gatherTwiml, PROMPTS, sayThenRouteTwiml } from './caller-verification.js';
import { findVerification } from './queries.js';

/**
 * Caller verification in the IVR, through the real webhooks (signed with the twilio package), the real
 * Twilio REST client and a loopback Twilio that records the texts.
 */

const ENV = { VERIFY_CALLER: 'always', TWILIO_FROM_NUMBER: '+15005550006' } as const;
let fake: FakeTwilio;
let ctx: TestContext;
let clock = Date.now();
const published: PushMessage[] = [];

beforeAll(async () => {
  fake = await startFakeTwilio({
    accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
  });
  const env = { ...ENV, TWILIO_API_BASE_URL: fake.url };
  ctx = await createTestContext({
    env,
    deps: {
      now: () => clock,
      hub: { ...nullHub, publish: async (m) => void published.push(m) },
      twilio: createTwilioRest({ config: parseConfig({ ...TEST_ENV, ...env }), fetch }),
    },
  });
  await seedSharedNumber(ctx.deps);
});
afterAll(async () => {
  ctx?.close();
  await fake?.close();
});
afterEach(() => {
  clock = Date.now();
});

async function post(path: string, params: FormParams, headers: Record<string, string> = {}) {
  const res = await ctx.app.request(twilioFormRequest(path, params, { headers }));
  expect(res.status).toBe(200);
  return res.text();
}

/**
 * An inbound call that the IVR sends to verification; returns its interaction id and call params. The
 * answer names the call by its CallSid (the same on every delivery); the steps after `start` use the id.
 */
async function callIn(from = '+14155550123') {
  const params = voiceParams(from);
  const twiml = await post('/twilio/voice', params);
  const match = /\/twilio\/voice\/verify\/start\?interaction=([\w-]+)/.exec(twiml);
  if (!match?.[1]) throw new Error(`not sent to verification: ${twiml}`);
  expect(match[1]).toBe(params.CallSid);
  const record = await findInteraction(ctx.deps.db, match[1]);
  if (!record) throw new Error('call not recorded');
  return { id: record.id, params };
}

const lastCode = () => /\b(\d{6})\b/.exec(fake.messages.at(-1)?.body ?? '')?.[1] ?? 'none';
const verification = async (id: string) => (await findInteraction(ctx.deps.db, id))?.callerVerification;

describe('caller verification', () => {
  it('texts a code to the caller, keeps only its hash, and verifies possession', async () => {
    const { id, params } = await callIn();
    const sent = fake.messages.length;
    const gather = await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    expect(gather).toBe(gatherTwiml(ctx.config, { interactionId: id, prompt: PROMPTS.first }));
    expect(fake.messages).toHaveLength(sent + 1);
    expect(fake.messages.at(-1)).toMatchObject({ to: '+14155550123', from: '+15005550006' });
    const code = lastCode();
    // The text warns against the attack this check exists for (being talked into reading the code out),
    // in one SMS segment.
    const body = fake.messages.at(-1)?.body ?? '';
    expect(body).toMatch(/Never share it or read it out to anyone, even our staff/);
    expect(body.length).toBeLessThanOrEqual(160);
    const row = await findVerification(ctx.deps.db, id);
    expect(row?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(code);
    expect(await verification(id)).toBe('pending');

    const wrong = code === '000000' ? '111111' : '000000';
    expect(
      await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: wrong }),
    ).toContain('<Gather');
    const routed = await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: code });
    expect(routed).toBe(sayThenRouteTwiml(ctx.config, { interactionId: id, message: PROMPTS.verified }));
    expect(routed).toContain('<Enqueue>support</Enqueue>');
    expect(await verification(id)).toBe('verified');
    const pushed = published
      .filter((m) => m.id === id)
      .map((m) => (m.interaction as { callerVerification: string }).callerVerification);
    expect(pushed).toEqual(expect.arrayContaining(['pending', 'verified']));
  });

  it('fails after three wrong tries (no input counts as one) and still routes the call', async () => {
    const { id, params } = await callIn();
    await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    const code = lastCode();
    const wrong = code === '123456' ? '654321' : '123456';
    expect(
      await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: wrong }),
    ).toContain('<Gather');
    expect(await post(`/twilio/voice/verify/check?interaction=${id}`, params)).toContain('<Gather');
    const last = await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: wrong });
    expect(last).toContain('We could not confirm the code');
    expect(last).toContain('<Enqueue>support</Enqueue>');
    expect(await verification(id)).toBe('failed');
    // The right code after the third wrong one changes nothing.
    await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: code });
    expect(await verification(id)).toBe('failed');
  });

  it('refuses a code after it expires', async () => {
    const { id, params } = await callIn();
    await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    const code = lastCode();
    clock += CODE_TTL_MS + 1000;
    const twiml = await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: code });
    expect(twiml).toContain('The code has expired');
    expect(await verification(id)).toBe('failed');
  });

  it('texts one code per call, even when Twilio retries the start step', async () => {
    const { id, params } = await callIn();
    const before = fake.messages.length;
    await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    expect(fake.messages).toHaveLength(before + 1);
  });

  it('does not charge a try for a redelivered check', async () => {
    const { id, params } = await callIn();
    await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    const code = lastCode();
    const wrong = code === '222222' ? '333333' : '222222';
    const headers = { 'i-twilio-idempotency-token': `tok-${id}` };
    for (let i = 0; i < 4; i++)
      await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: wrong }, headers);
    expect((await findVerification(ctx.deps.db, id))?.attempts).toBe(1);
    await post(`/twilio/voice/verify/check?interaction=${id}`, { ...params, Digits: code });
    expect(await verification(id)).toBe('verified');
  });

  it('routes without a code when the text cannot be sent', async () => {
    const { id, params } = await callIn();
    fake.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const twiml = await post(`/twilio/voice/verify/start?interaction=${id}`, params);
    expect(twiml).toContain('<Enqueue>support</Enqueue>');
    expect(twiml).not.toContain('<Gather');
    expect(await verification(id)).toBe('not_attempted');
  });

  it('routes unverified when no sender is configured', async () => {
    const bare = await createTestContext({ env: { VERIFY_CALLER: 'always', TWILIO_API_BASE_URL: fake.url } });
    try {
      await seedSharedNumber(bare.deps);
      const params = voiceParams('+14155550123');
      const first = await (await bare.app.request(twilioFormRequest('/twilio/voice', params))).text();
      const id = /interaction=([\w-]+)/.exec(first)?.[1] ?? '';
      const res = await bare.app.request(
        twilioFormRequest(`/twilio/voice/verify/start?interaction=${id}`, params),
      );
      const twiml = await res.text();
      expect(twiml).toContain('<Enqueue>support</Enqueue>');
      expect(twiml).not.toContain('<Gather');
      expect((await findInteraction(bare.deps.db, id))?.callerVerification).toBe('not_attempted');
    } finally {
      bare.close();
    }
  });

  /** A context of its own (VERIFY_CALLER always, so no seeding), the texts going to the shared fake. */
  async function ownContext(env: Record<string, string>) {
    const pushed: PushMessage[] = [];
    const own = await createTestContext({
      env: { ...ENV, VERIFY_CALLER: 'always', TWILIO_API_BASE_URL: fake.url, ...env },
      deps: { hub: { ...nullHub, publish: async (m) => void pushed.push(m) } },
    });
    const start = async (from: string) => {
      const params = voiceParams(from);
      const first = await (await own.app.request(twilioFormRequest('/twilio/voice', params))).text();
      const id = /interaction=([\w-]+)/.exec(first)?.[1] ?? '';
      const res = await own.app.request(
        twilioFormRequest(`/twilio/voice/verify/start?interaction=${id}`, params),
      );
      expect(res.status).toBe(200);
      return { id, twiml: await res.text() };
    };
    return { own, pushed, start };
  }

  it('records each text in otp_deliveries, and skips verification past the hourly limit per number', async () => {
    const { own, pushed, start } = await ownContext({ OTP_RATE_LIMIT_PER_HOUR: '2' });
    try {
      const from = '+14155550177';
      const sentBefore = fake.messages.length;
      for (let i = 0; i < 2; i++) expect((await start(from)).twiml).toContain('<Gather');
      const { id, twiml } = await start(from);
      expect(twiml).toContain('<Enqueue>support</Enqueue>');
      expect(twiml).not.toContain('<Gather');
      expect(fake.messages).toHaveLength(sentBefore + 2);
      const record = await findInteraction(own.deps.db, id);
      expect(record?.callerVerification).toBe('not_attempted');
      expect(record?.flags).toMatchObject({ verificationSkipped: 'rate_limited_number' });
      expect(pushed.filter((m) => m.id === record?.id).at(-1)?.interaction).toMatchObject({
        callerVerification: 'not_attempted',
        flags: { verificationSkipped: 'rate_limited_number' },
      });
      const deliveries = await own.deps.db.$client.execute({
        sql: 'select status, reason, purpose, twilio_sid is not null as sid from otp_deliveries where recipient = ? order by created_at, rowid',
        args: [from],
      });
      expect(deliveries.rows.map((r) => [r.status, r.reason, r.purpose, r.sid])).toEqual([
        ['sent', null, 'caller_verification', 1],
        ['sent', null, 'caller_verification', 1],
        ['refused', 'rate_limited_number', 'caller_verification', 0],
      ]);
    } finally {
      own.close();
    }
  });

  it('texts no code to a country outside OTP_ALLOWED_COUNTRIES, a number of no country, nor one that takes no texts', async () => {
    const { own, start } = await ownContext({ OTP_ALLOWED_COUNTRIES: 'US' });
    try {
      for (const [from, reason] of [
        ['+447911123456', 'country_not_allowed'],
        ['+18005550123', 'number_type_not_allowed'],
        ['+8821612345678', 'no_country'],
      ] as const) {
        const before = fake.messages.length;
        const { id, twiml } = await start(from);
        expect(twiml).toContain('<Enqueue>support</Enqueue>');
        expect(fake.messages).toHaveLength(before);
        const record = await findInteraction(own.deps.db, id);
        expect(record?.callerVerification).toBe('not_attempted');
        expect(record?.flags).toMatchObject({ verificationSkipped: reason });
      }
    } finally {
      own.close();
    }
  });

  it('will not let another call drive this interaction', async () => {
    const { id, params } = await callIn();
    const before = fake.messages.length;
    const other = voiceParams('+14155550123');
    const twiml = await post(`/twilio/voice/verify/start?interaction=${id}`, {
      ...params,
      CallSid: other.CallSid as string,
    });
    expect(twiml).not.toContain('<Gather');
    expect(fake.messages).toHaveLength(before);
  });

  it('refuses unsigned requests', async () => {
    const { id, params } = await callIn();
    const res = await ctx.app.request(
      twilioFormRequest(
        `/twilio/voice/verify/check?interaction=${id}`,
        { ...params, Digits: '123456' },
        { headers: { 'x-twilio-signature': null } },
      ),
    );
    expect(res.status).toBe(403);
  });
});

describe('caller verification TwiML', () => {
  it('asks for six digits and falls through to the check when nothing is keyed', () => {
    expect(gatherTwiml(ctx.config, { interactionId: 'abc', prompt: 'Enter it.' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="dtmf" numDigits="6" timeout="15" action="https://callerpop.test/twilio/voice/verify/check?interaction=abc" method="POST"><Say language="en-US">Enter it.</Say></Gather><Redirect method="POST">https://callerpop.test/twilio/voice/verify/check?interaction=abc</Redirect></Response>',
    );
  });

  it('says a sentence before the normal routing', () => {
    expect(sayThenRouteTwiml(ctx.config, { interactionId: 'abc', message: 'Thank you.' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-US">Thank you.</Say><Enqueue>support</Enqueue></Response>',
    );
  });
});
