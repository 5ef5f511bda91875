import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { eventually } from '../../test/support/eventually.js';
import {
  type FormParams,
  sid,
  smsParams,
  twilioFormRequest,
  voiceParams,
} from '../../test/support/twilio-sign.js';
import { ConfigError, type ConfigInput, parseConfig } from '../config.js';
import { upsertAccounts, upsertLinks } from '../phone-index/index.js';
import { nullHub, type PushMessage } from '../push/index.js';
import { findInteraction } from './interaction-queries.js';
import type { InteractionView } from './interaction-view.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const FAMILY = '+14155550100';
const NOBODY = '+14155550177';

let ctx: TestContext;
let published: PushMessage[];

async function setup(env: ConfigInput = {}) {
  published = [];
  ctx = await createTestContext({
    env,
    deps: { hub: { ...nullHub, publish: async (m) => void published.push(m) } },
  });
  const at = Date.UTC(2026, 0, 1);
  await upsertAccounts(ctx.deps.db, [
    { userId: 'auth0|parent', name: 'Dana Rivera', email: 'dana@example.com', connection: 'db', at },
    { userId: 'sms|teen', name: 'Sam Rivera', connection: 'sms', at },
  ]);
  await upsertLinks(ctx.deps.db, [
    { e164: FAMILY, userId: 'sms|teen', source: 'passwordless', verified: true, at },
    { e164: FAMILY, userId: 'auth0|parent', source: 'mfa_sms', verified: true, at },
  ]);
}

async function count(table: string): Promise<number> {
  const rs = await ctx.deps.db.$client.execute(`select count(*) as n from ${table}`);
  return Number(rs.rows[0]?.n);
}

const post = (path: string, params: Record<string, string | string[]>, headers?: Record<string, string>) =>
  ctx.app.request(twilioFormRequest(path, params, { headers }));

afterEach(() => ctx?.close());

describe('POST /twilio/voice', () => {
  it('records the call with every match ranked and its STIR/SHAKEN attestation, and routes it', async () => {
    await setup();
    const params = voiceParams(FAMILY);
    const res = await post('/twilio/voice', params);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/xml');
    expect(await res.text()).toBe(
      `${XML}<Response><Say language="en-US">Thanks for calling. Connecting you to an agent.</Say><Enqueue>support</Enqueue></Response>`,
    );

    const record = await findInteraction(ctx.deps.db, params.CallSid as string);
    expect(record).toMatchObject({
      channel: 'voice',
      rawFrom: FAMILY,
      e164: FAMILY,
      toNumber: '+14155550199',
      stirVerstat: 'TN-Validation-Passed-A',
      status: 'ringing',
      flags: { sharedLine: true },
    });
    expect(record?.matches.map((m) => [m.rank, m.userId])).toEqual([
      [1, 'auth0|parent'],
      [2, 'sms|teen'],
    ]);

    expect(published).toHaveLength(1);
    const view = published[0]?.interaction as InteractionView;
    expect(published[0]).toMatchObject({ type: 'interaction', id: record?.id, version: record?.updatedAt });
    expect(view).toMatchObject({
      twilioSid: params.CallSid,
      caller: FAMILY,
      callerDisplay: '+1 415 555 0100',
      sharedLine: true,
      popUrl: `${TEST_ENV.PUBLIC_BASE_URL}/agent/pop/${record?.id}`,
    });
  });

  it('passes the screen-pop URL and interaction id to a <Client> dial', async () => {
    await setup({ ROUTE_TO: 'client:front-desk' });
    const params = voiceParams(FAMILY);
    const twiml = await (await post('/twilio/voice', params)).text();
    // Named by CallSid: the same on every delivery, whichever of them recorded the call.
    const id = params.CallSid as string;
    expect(await findInteraction(ctx.deps.db, id)).toBeDefined();
    expect(twiml).toBe(
      `${XML}<Response><Say language="en-US">Thanks for calling. Connecting you to an agent.</Say>` +
        '<Dial answerOnBridge="true"><Client statusCallback="https://callerpop.test/twilio/voice/status" ' +
        'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST">' +
        `<Identity>front-desk</Identity><Parameter name="popUrl" value="https://callerpop.test/agent/pop/${id}"/>` +
        `<Parameter name="interactionId" value="${id}"/></Client></Dial></Response>`,
    );
  });

  it('a retried webhook (same CallSid and idempotency token) records once, publishes once, answers the same', async () => {
    await setup({ ROUTE_TO: 'client:front-desk' });
    const params = voiceParams(FAMILY);
    const headers = { 'i-twilio-idempotency-token': 'a3c1e2f0-retry-token' };
    const first = await (await post('/twilio/voice', params, headers)).text();
    const second = await (await post('/twilio/voice', params, headers)).text();
    const third = await (await post('/twilio/voice', params)).text();
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(await count('interactions')).toBe(1);
    expect(await count('processed_events')).toBe(1);
    expect(published).toHaveLength(1);
  });

  it('records concurrent calls once each, even a retry racing its original', async () => {
    await setup({ ROUTE_TO: 'client:front-desk' });
    const racing = voiceParams(FAMILY);
    const headers = { 'i-twilio-idempotency-token': 'racing-token' };
    const others = Array.from({ length: 20 }, (_, i) => voiceParams(`+1415555${(1000 + i).toString()}`));
    const responses = await Promise.all([
      post('/twilio/voice', racing, headers),
      ...others.map((p) => post('/twilio/voice', p)),
      post('/twilio/voice', racing, headers),
    ]);
    const bodies = await Promise.all(responses.map((r) => r.text()));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(bodies.at(-1)).toBe(bodies[0]);
    expect(bodies[0]).toContain(`value="${racing.CallSid}"`);
    expect(await count('interactions')).toBe(21);
    expect(await count('processed_events')).toBe(1);
    expect(published).toHaveLength(21);
  });

  it('records a withheld caller without matches, and still routes', async () => {
    await setup();
    const params = voiceParams('+266696687', { Caller: '+266696687', StirVerstat: '' });
    const res = await post('/twilio/voice', params);
    expect(res.status).toBe(200);
    const record = await findInteraction(ctx.deps.db, params.CallSid as string);
    expect(record).toMatchObject({ e164: null, fromReason: 'withheld', matches: [], stirVerstat: null });
    expect(published[0]?.interaction).toMatchObject({ callerDisplay: 'Number withheld' });
  });

  it('reads a national-format caller with the region in the webhook URL', async () => {
    await setup();
    const params = voiceParams('020 7946 0123');
    expect((await post('/twilio/voice?region=GB', params)).status).toBe(200);
    expect((await findInteraction(ctx.deps.db, params.CallSid as string))?.e164).toBe('+442079460123');
  });

  it('offers the one-digit menu and routes the digit to its queue', async () => {
    await setup({ VOICE_MENU: '1:sales,2:support', VOICE_GREETING: 'Welcome to Acme.' });
    const params = voiceParams(NOBODY);
    const twiml = await (await post('/twilio/voice', params)).text();
    const id = params.CallSid as string;
    expect(twiml).toBe(
      `${XML}<Response><Gather numDigits="1" action="https://callerpop.test/twilio/voice/menu?interaction=${id}" ` +
        'method="POST" timeout="5"><Say language="en-US">Welcome to Acme.</Say>' +
        '<Say language="en-US">For sales, press 1. For support, press 2.</Say></Gather>' +
        '<Enqueue>support</Enqueue></Response>',
    );
    const menu = await post(`/twilio/voice/menu?interaction=${id}`, {
      ...voiceParams(NOBODY, { CallSid: params.CallSid as string }),
      Digits: '1',
    });
    expect(await menu.text()).toBe(`${XML}<Response><Enqueue>sales</Enqueue></Response>`);
  });

  it('refuses a malformed VOICE_MENU at start-up, naming it', () => {
    for (const menu of ['sales', '1:', '12:sales', '1:sales,,2:support']) {
      expect(() => parseConfig({ ...TEST_ENV, VOICE_MENU: menu })).toThrow(ConfigError);
      expect(() => parseConfig({ ...TEST_ENV, VOICE_MENU: menu })).toThrow(/VOICE_MENU/);
    }
    expect(parseConfig({ ...TEST_ENV, VOICE_MENU: '1:sales, 2: billing team' }).VOICE_MENU).toBe(
      '1:sales, 2: billing team',
    );
  });

  it('sends every caller to caller verification when VERIFY_CALLER=always, known or not, alike', async () => {
    await setup({ VERIFY_CALLER: 'always' });
    const answerFor = async (params: FormParams) => {
      const twiml = await (await post('/twilio/voice', params)).text();
      return twiml.replace(params.CallSid as string, '{sid}');
    };
    const known = await answerFor(voiceParams(FAMILY));
    expect(known).toBe(
      `${XML}<Response><Say language="en-US">Thanks for calling. Connecting you to an agent.</Say>` +
        `<Redirect method="POST">https://callerpop.test/twilio/voice/verify/start?interaction={sid}</Redirect></Response>`,
    );
    // Nothing in the answer tells a caller whether their number is in the index.
    expect(await answerFor(voiceParams(NOBODY))).toBe(known);
  });

  it('refuses the retired VERIFY_CALLER=matched at start-up, saying why', () => {
    expect(() => parseConfig({ ...TEST_ENV, VERIFY_CALLER: 'matched' })).toThrow(
      /VERIFY_CALLER must be off or always \(matched was retired/,
    );
  });
});

describe('POST /twilio/voice/status', () => {
  it('moves the call forward, publishing each change once and never going back', async () => {
    await setup();
    const params = voiceParams(FAMILY);
    await post('/twilio/voice', params);
    const callSid = params.CallSid as string;
    const status = (callStatus: string, extra: Record<string, string> = {}, token?: string) =>
      post(
        '/twilio/voice/status',
        { ...voiceParams(FAMILY, { CallSid: callSid }), CallStatus: callStatus, ...extra },
        token ? { 'i-twilio-idempotency-token': token } : undefined,
      );

    expect((await status('in-progress', {}, 't1')).status).toBe(204);
    expect((await status('in-progress', {}, 't1')).status).toBe(204);
    expect((await status('ringing')).status).toBe(204);
    expect((await status('completed', { CallDuration: '42' })).status).toBe(204);
    expect((await status('completed')).status).toBe(204);
    expect((await status('busy')).status).toBe(204);

    const record = await findInteraction(ctx.deps.db, callSid);
    expect(record?.status).toBe('completed');
    expect(published.map((m) => (m.interaction as InteractionView).status)).toEqual([
      'ringing',
      'in-progress',
      'completed',
    ]);
  });

  it('never moves a call back when answered and completed arrive together', async () => {
    await setup();
    const calls = Array.from({ length: 40 }, () => voiceParams(FAMILY));
    for (const params of calls) expect((await post('/twilio/voice', params)).status).toBe(200);
    published = [];
    // Twilio sends a short leg's answered and completed callbacks close together: both are applied at once.
    await Promise.all(
      calls.flatMap((params) =>
        ['completed', 'in-progress'].map((callStatus) =>
          post('/twilio/voice/status', { ...params, CallStatus: callStatus }),
        ),
      ),
    );
    const rs = await ctx.deps.db.$client.execute(
      'select status, count(*) as n from interactions group by status',
    );
    expect(rs.rows.map((r) => [r.status, Number(r.n)])).toEqual([['completed', 40]]);
    // Each call's last push says completed: a push is sent only for a move the database made.
    const last = new Map<string, string>();
    for (const m of published) {
      const view = m.interaction as InteractionView;
      last.set(view.twilioSid, view.status);
    }
    expect([...last.values()].filter((s) => s !== 'completed')).toEqual([]);
    expect(last.size).toBe(40);
  });

  it('applies the agent leg of a <Dial> to the parent call', async () => {
    await setup({ ROUTE_TO: 'number:+14155550142' });
    const params = voiceParams(FAMILY);
    await post('/twilio/voice', params);
    await post('/twilio/voice/status', {
      AccountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
      CallSid: sid('CA'),
      ParentCallSid: params.CallSid as string,
      CallStatus: 'in-progress',
      Direction: 'outbound-dial',
    });
    expect((await findInteraction(ctx.deps.db, params.CallSid as string))?.status).toBe('in-progress');
  });

  it('keeps a callback that arrives before its call is recorded, and applies it once the call is', async () => {
    await setup();
    const params = voiceParams(FAMILY);
    const callSid = params.CallSid as string;
    const early = () =>
      post(
        '/twilio/voice/status',
        { ...voiceParams(FAMILY, { CallSid: callSid }), CallStatus: 'in-progress' },
        { 'i-twilio-idempotency-token': 'early-token' },
      );
    // The callback, then Twilio's redelivery of it, both before the call is recorded.
    expect((await early()).status).toBe(204);
    expect((await early()).status).toBe(204);
    expect(await count('interactions')).toBe(0);
    // Its token is not spent on a call that is not there yet.
    expect(await count('processed_events')).toBe(0);

    expect((await post('/twilio/voice', params)).status).toBe(200);
    await eventually(async () =>
      (await findInteraction(ctx.deps.db, callSid))?.status === 'in-progress' ? true : undefined,
    );
    await eventually(() =>
      ctx.logger.lines.filter((l) => l.message.startsWith('call status applied')).length === 2
        ? true
        : undefined,
    );
    expect(published.map((m) => (m.interaction as InteractionView).status)).toEqual([
      'ringing',
      'in-progress',
    ]);
    expect(await count('processed_events')).toBe(1);
  });

  it('ignores a callback for a call it never saw', async () => {
    await setup();
    const res = await post('/twilio/voice/status', { ...voiceParams(FAMILY), CallStatus: 'completed' });
    expect(res.status).toBe(204);
    expect(await count('interactions')).toBe(0);
  });
});

describe('POST /twilio/sms', () => {
  it('records the text with its matches and answers an empty <Response/>', async () => {
    await setup();
    const params = smsParams(FAMILY, 'Where is my order?');
    const res = await post('/twilio/sms', params);
    expect(await res.text()).toBe(`${XML}<Response/>`);
    // A text is answered at once and recorded right behind the answer.
    const record = await eventually(() => findInteraction(ctx.deps.db, params.MessageSid as string));
    expect(record).toMatchObject({ channel: 'sms', status: 'received', e164: FAMILY });
    expect(record?.matches).toHaveLength(2);
    expect(published).toHaveLength(1);
  });

  it('answers the configured auto-reply, the same on a retry', async () => {
    await setup({ SMS_AUTO_REPLY: 'Thanks! An agent will text you back <soon>.' });
    const params = smsParams(NOBODY, 'hi');
    const headers = { 'i-twilio-idempotency-token': 'sms-token-1' };
    const first = await (await post('/twilio/sms', params, headers)).text();
    expect(first).toBe(
      `${XML}<Response><Message>Thanks! An agent will text you back &lt;soon&gt;.</Message></Response>`,
    );
    expect(await (await post('/twilio/sms', params, headers)).text()).toBe(first);
    expect(await (await post('/twilio/sms', params)).text()).toBe(first);
    // Every delivery's recording (and push) is done: the duplicates had their chance to write.
    expect(await ctx.background.settle()).toBe(true);
    expect(await count('interactions')).toBe(1);
    // The MessageSid makes a text idempotent and its answer is the configuration's: no token row needed.
    expect(await count('processed_events')).toBe(0);
    expect(published).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('413 for a body over 64 KiB, nothing written', async () => {
    await setup();
    const res = await post('/twilio/sms', smsParams(FAMILY, 'x'.repeat(70 * 1024)));
    expect(res.status).toBe(413);
    expect(await count('interactions')).toBe(0);
  });

  it('413 when the body is streamed without a length', async () => {
    await setup();
    const chunk = new TextEncoder().encode('Body='.padEnd(16 * 1024, 'x'));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await ctx.app.request('/twilio/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('415 for a body that is not a form', async () => {
    await setup();
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml']) {
      const res = await ctx.app.request('/twilio/voice', {
        method: 'POST',
        headers: { 'content-type': type, 'x-twilio-signature': 'x' },
        body: 'From=%2B14155550100',
      });
      expect(res.status).toBe(415);
    }
    expect(await count('interactions')).toBe(0);
  });

  it('400 for a signed form without From or without a SID, nothing written', async () => {
    await setup();
    const noFrom = voiceParams(FAMILY);
    delete noFrom.From;
    const res = await post('/twilio/voice', noFrom);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('From is required');

    const noSid = smsParams(FAMILY, 'hi');
    delete noSid.MessageSid;
    delete noSid.SmsSid;
    expect((await post('/twilio/sms', noSid)).status).toBe(400);
    expect(await count('interactions')).toBe(0);
    expect(published).toHaveLength(0);
  });

  it('never answers 5xx for malformed forms', async () => {
    await setup();
    for (const from of ['', '%%%', 'client:alice', 'sip:bob@example.com', '😀'.repeat(100), 'Restricted']) {
      const res = await post('/twilio/sms', smsParams(from, 'x'));
      expect(res.status).toBe(200);
    }
    const res = await ctx.app.request('/twilio/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
      body: '%E0%A4%A=&&==',
    });
    expect(res.status).toBe(403);
  });
});
