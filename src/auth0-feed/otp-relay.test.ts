import { afterEach, describe, expect, it } from 'vitest';
import {
  ALICE,
  type Auth0Fixture,
  BOB,
  createAuth0Fixture,
  deliverEvent,
  rows,
  TWILIO_FROM,
} from '../../test/support/auth0-context.js';
import { postAuth0Event } from '../../test/support/auth0-sign.js';
import { TEST_ENV } from '../../test/support/context.js';
import { hashOtpCode, listOtpDeliveries } from '../otp/index.js';
import { buildOtpVoiceTwiml, sayLanguageFor } from './otp-voice.js';

type Answer = {
  delivered: boolean;
  sid?: string;
  retryable?: boolean;
  reason?: string;
  enrollment?: unknown;
};

async function deliver(f: Auth0Fixture, options: Parameters<typeof deliverEvent>[0] = {}, id?: string) {
  const at = f.clock.now;
  const res = await postAuth0Event(f.ctx.app, deliverEvent({ at, ...options }), {
    timestamp: new Date(at),
    ...(id ? { id } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

describe('OTP delivery through Twilio', () => {
  let f: Auth0Fixture;
  afterEach(() => f?.close());

  it('sends an enrollment SMS, records a hash of the code, indexes the number, and logs neither', async () => {
    f = await createAuth0Fixture();
    const answer = await deliver(f, { code: '482910' });
    expect(answer).toMatchObject({ delivered: true, enrollment: { allowed: true, decision: 'allow' } });
    expect(f.twilio.messages).toEqual([
      {
        sid: answer.sid,
        to: '+14155550100',
        from: TWILIO_FROM,
        messagingServiceSid: undefined,
        body: '482910 is your verification code',
      },
    ]);

    const [delivery] = await rows(f.ctx, 'select * from otp_deliveries');
    expect(delivery).toMatchObject({
      recipient: '+14155550100',
      user_id: 'auth0|alice',
      channel: 'sms',
      purpose: 'enrollment',
      status: 'sent',
      twilio_sid: answer.sid,
      country: 'US',
    });
    expect(delivery?.code_hash).toBe(await hashOtpCode(TEST_ENV.SESSION_SECRET, '+14155550100', '482910'));
    expect(JSON.stringify(await rows(f.ctx, 'select * from otp_deliveries'))).not.toContain('482910');
    expect(JSON.stringify(await rows(f.ctx, 'select * from processed_events'))).not.toContain('482910');

    expect(await rows(f.ctx, 'select e164, user_id, source, verified, removed_at from phone_links')).toEqual([
      { e164: '+14155550100', user_id: 'auth0|alice', source: 'mfa_sms', verified: 0, removed_at: null },
    ]);
    const logs = JSON.stringify(f.ctx.logger.lines);
    expect(logs).not.toContain('482910');
    expect(logs).not.toContain('4155550100');
    expect(logs).toContain('0100');
  });

  it('records a code of another flow under its own purpose, and a message for no user yet without an account', async () => {
    f = await createAuth0Fixture({ env: { OTP_RATE_LIMIT_PER_HOUR: '2' } });
    const passwordless = {
      trigger: 'custom-phone-provider',
      purpose: 'authentication',
      flow: 'passwordless',
    };
    // A first passwordless login: Auth0's event.user may be empty, so callerpop gets no user.
    expect(await deliver(f, { ...passwordless, user: null, code: '700001' })).toMatchObject({
      delivered: true,
    });
    const sms = {
      user_id: 'sms|6612d0c3a1',
      connection: 'sms',
      strategy: 'sms',
      phone_number: '+14155550100',
    };
    expect(await deliver(f, { ...passwordless, user: sms, code: '700002' })).toMatchObject({
      delivered: true,
    });
    expect(await rows(f.ctx, 'select user_id, purpose, status from otp_deliveries order by rowid')).toEqual([
      { user_id: null, purpose: 'passwordless_code', status: 'sent' },
      { user_id: 'sms|6612d0c3a1', purpose: 'passwordless_code', status: 'sent' },
    ]);
    expect(await rows(f.ctx, 'select user_id from accounts')).toEqual([{ user_id: 'sms|6612d0c3a1' }]);
    expect(await rows(f.ctx, 'select user_id, source from phone_links')).toEqual([
      { user_id: 'sms|6612d0c3a1', source: 'passwordless' },
    ]);
    // The number's limit still holds without a user.
    expect(await deliver(f, { ...passwordless, user: null, code: '700003' })).toMatchObject({
      delivered: false,
      reason: 'rate_limited_number',
    });
  });

  it('reads a voice code slowly, digit by digit, twice, in the caller language', async () => {
    f = await createAuth0Fixture();
    const answer = await deliver(f, {
      channel: 'voice',
      code: '4071',
      locale: 'fr_FR',
      purpose: 'authentication',
    });
    expect(answer).toMatchObject({ delivered: true });
    expect(answer.sid).toMatch(/^CA/);
    const digits = (code: string) =>
      [...code].map((d) => `<Say language="fr-FR">${d}</Say><Pause length="1"/>`).join('');
    expect(f.twilio.calls[0]?.twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say language="fr-FR">Votre code de vérification est</Say><Pause length="1"/>' +
        digits('4071') +
        '<Pause length="2"/><Say language="fr-FR">Je répète, votre code est</Say><Pause length="1"/>' +
        digits('4071') +
        '</Response>',
    );
    expect(f.twilio.calls[0]?.from).toBe(TWILIO_FROM);
    expect(await rows(f.ctx, 'select source from phone_links')).toEqual([{ source: 'mfa_voice' }]);
  });

  it('speaks languages it has no phrases for with Auth0 text, and maps locales to Twilio voices', () => {
    expect(sayLanguageFor('en_GB')).toBe('en-GB');
    expect(sayLanguageFor('pt')).toBe('pt-BR');
    expect(sayLanguageFor('de-CH')).toBe('de-DE');
    expect(sayLanguageFor('xx-YY')).toBe('en-US');
    expect(sayLanguageFor(undefined)).toBe('en-US');
    const twiml = buildOtpVoiceTwiml({ code: '12', locale: 'ja-JP', fallbackText: '確認コードは 1 2 です' });
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Say language="ja-JP">確認コードは 1 2 です</Say><Pause length="1"/>' +
        '<Say language="ja-JP">1</Say><Pause length="1"/><Say language="ja-JP">2</Say><Pause length="1"/>' +
        '<Pause length="2"/><Pause length="1"/>' +
        '<Say language="ja-JP">1</Say><Pause length="1"/><Say language="ja-JP">2</Say><Pause length="1"/>' +
        '</Response>',
    );
  });

  it("keeps the call TwiML within Twilio's 4,000 characters whatever Auth0 sends", () => {
    const twiml = buildOtpVoiceTwiml({
      code: '1'.repeat(20),
      locale: 'ja-JP',
      fallbackText: 'あ'.repeat(4000),
    });
    expect(twiml.length).toBeLessThan(4000);
    expect(buildOtpVoiceTwiml({ code: '1', locale: 'ja', fallbackText: '  ' })).toContain(
      '<Say language="en-US">Your verification code is</Say>',
    );
  });

  it('limits deliveries per (user, number) and per user within an hour, and lets them through after it', async () => {
    f = await createAuth0Fixture({ env: { OTP_RATE_LIMIT_PER_HOUR: '3' } });
    for (let i = 0; i < 3; i++)
      expect((await deliver(f, { purpose: 'authentication' })).delivered).toBe(true);
    expect(await deliver(f, { purpose: 'authentication' })).toEqual({
      delivered: false,
      retryable: false,
      reason: 'rate_limited_number',
    });
    // Same user, other numbers: the user is the limit.
    expect(await deliver(f, { recipient: '+14155550111', purpose: 'authentication' })).toMatchObject({
      reason: 'rate_limited_user',
    });
    expect(f.twilio.messages).toHaveLength(3);

    f.clock.advance(61 * 60 * 1000);
    expect((await deliver(f, { purpose: 'authentication' })).delivered).toBe(true);
  });

  it('lets nobody lock another account out of its number: a stranger’s codes count against the stranger', async () => {
    f = await createAuth0Fixture({ env: { OTP_RATE_LIMIT_PER_HOUR: '3' } });
    // Bob enrolls Alice's number again and again (Auth0 sends each code; the event names Bob).
    for (let i = 0; i < 3; i++) expect((await deliver(f, { user: BOB })).delivered).toBe(true);
    expect(await deliver(f, { user: BOB })).toMatchObject({
      delivered: false,
      reason: 'rate_limited_number',
    });
    // Alice still gets her codes.
    for (let i = 0; i < 3; i++)
      expect((await deliver(f, { purpose: 'authentication' })).delivered, `alice ${i}`).toBe(true);
  });

  it('never overshoots a limit or a budget under concurrent requests', async () => {
    f = await createAuth0Fixture({ env: { OTP_RATE_LIMIT_PER_HOUR: '3' } });
    const sameUser = await Promise.all(
      Array.from({ length: 8 }, () => deliver(f, { purpose: 'authentication' })),
    );
    expect(sameUser.filter((a) => a.delivered)).toHaveLength(3);
    await f.close();

    f = await createAuth0Fixture({ env: { OTP_HOURLY_BUDGET: '4' } });
    const manyUsers = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        deliver(f, {
          purpose: 'authentication',
          user: { ...ALICE, user_id: `auth0|u${i}` },
          recipient: `+1415555${String(1000 + i * 111).padStart(4, '0')}`,
        }),
      ),
    );
    expect(manyUsers.filter((a) => a.delivered)).toHaveLength(4);
    expect(manyUsers.filter((a) => a.reason === 'hourly_budget_spent')).toHaveLength(5);
    expect(f.twilio.messages).toHaveLength(4);
    expect(await rows(f.ctx, "select count(*) as n from otp_deliveries where status = 'refused'")).toEqual([
      { n: 5 },
    ]);
  });

  it('refuses countries outside OTP_ALLOWED_COUNTRIES', async () => {
    f = await createAuth0Fixture({ env: { OTP_ALLOWED_COUNTRIES: 'us, ca' } });
    expect(await deliver(f, { recipient: '+33612345678' })).toMatchObject({
      delivered: false,
      retryable: false,
      reason: 'country_not_allowed',
    });
    expect((await deliver(f, { recipient: '+14155550100' })).delivered).toBe(true);
    expect(f.twilio.requests).toHaveLength(1);
  });

  it('refuses premium-rate, toll-free and personal numbers, and landlines for SMS but not for voice', async () => {
    f = await createAuth0Fixture();
    for (const recipient of ['+19005550100', '+18005550100', '+447012345678']) {
      for (const channel of ['sms', 'voice'] as const) {
        expect(await deliver(f, { recipient, channel }), `${recipient} ${channel}`).toMatchObject({
          delivered: false,
          reason: 'number_type_not_allowed',
        });
      }
    }
    expect(await deliver(f, { recipient: '+442071234567', channel: 'sms' })).toMatchObject({
      reason: 'number_type_not_allowed',
    });
    expect((await deliver(f, { recipient: '+442071234567', channel: 'voice' })).delivered).toBe(true);
    expect(await deliver(f, { recipient: '12' })).toMatchObject({ reason: 'invalid_number' });
    expect(f.twilio.requests).toHaveLength(1);
  });

  it('records every refusal and failure where the console can list them', async () => {
    f = await createAuth0Fixture({ env: { OTP_ALLOWED_COUNTRIES: 'US' } });
    await deliver(f, { recipient: '+19005550100' });
    await deliver(f, { recipient: '+14155550100' });
    const listed = await listOtpDeliveries(f.ctx.deps.db, '+19005550100');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      status: 'refused',
      reason: 'number_type_not_allowed',
      userId: 'auth0|alice',
    });
    expect(listed[0]).not.toHaveProperty('codeHash');
    expect(await listOtpDeliveries(f.ctx.deps.db, '+14155550100')).toMatchObject([{ status: 'sent' }]);
  });

  it('reports permanent Twilio errors as final and transient ones as retryable, retrying under the same id', async () => {
    f = await createAuth0Fixture();
    f.twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    expect(await deliver(f, { purpose: 'authentication' })).toEqual({
      delivered: false,
      retryable: false,
      reason: 'twilio_21610',
    });
    expect(await rows(f.ctx, 'select count(*) as n from phone_links')).toEqual([{ n: 0 }]);

    f.twilio.failNext(1, { status: 503 });
    const id = 'msg_transient';
    expect(await deliver(f, { purpose: 'authentication' }, id)).toEqual({
      delivered: false,
      retryable: true,
      reason: 'twilio_20500',
    });
    // The Action's retry with the same webhook-id is processed again, not answered from the failure.
    const retried = await deliver(f, { purpose: 'authentication' }, id);
    expect(retried.delivered).toBe(true);
    // And once delivered, the same id is answered from the record without a second SMS.
    expect(await deliver(f, { purpose: 'authentication' }, id)).toEqual(retried);
    expect(f.twilio.messages).toHaveLength(1);
    expect(await rows(f.ctx, 'select status, reason from otp_deliveries order by rowid')).toEqual([
      { status: 'failed', reason: 'twilio_21610' },
      { status: 'failed', reason: 'twilio_20500' },
      { status: 'sent', reason: null },
    ]);
  });

  it('sends one SMS when the same webhook-id arrives twice at once', async () => {
    f = await createAuth0Fixture();
    const event = deliverEvent({ at: f.clock.now, purpose: 'authentication' });
    const send = () =>
      postAuth0Event(f.ctx.app, event, { id: 'msg_concurrent', timestamp: new Date(f.clock.now) });
    const responses = await Promise.all([send(), send(), send()]);
    const statuses = responses.map((r) => r.status).sort();
    // The first is delivered; the others get its answer, or 409 while it is still in flight.
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    expect(statuses).toContain(200);
    for (const res of responses.filter((r) => r.status === 200)) {
      expect(await res.json()).toMatchObject({ delivered: true });
    }
    expect(f.twilio.messages).toHaveLength(1);
    expect(await rows(f.ctx, 'select count(*) as n from otp_deliveries')).toEqual([{ n: 1 }]);
  });

  it('keeps the claim once Twilio accepted a code, even if the answer cannot be stored, so a retry sends nothing', async () => {
    f = await createAuth0Fixture();
    // The database refuses to store the answer (as a full disk or a lost connection would).
    await f.ctx.deps.db.$client.execute(
      "create trigger refuse_answer before update of response on processed_events begin select raise(abort, 'disk I/O error'); end",
    );
    const event = deliverEvent({ at: f.clock.now, purpose: 'authentication' });
    const post = () =>
      postAuth0Event(f.ctx.app, event, { id: 'msg_store_fails', timestamp: new Date(f.clock.now) });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ delivered: true });
    // The Action's retry under the same id (it saw a timeout) is told to wait, and no second code goes out.
    expect((await post()).status).toBe(409);
    expect(f.twilio.messages).toHaveLength(1);
    expect(f.ctx.logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringContaining('answer not stored') }),
    );
  });

  it('uses the Messaging Service when configured', async () => {
    f = await createAuth0Fixture({ env: { TWILIO_MESSAGING_SERVICE_SID: `MG${'b'.repeat(32)}` } });
    expect((await deliver(f)).delivered).toBe(true);
    expect(f.twilio.messages[0]).toMatchObject({
      messagingServiceSid: `MG${'b'.repeat(32)}`,
      from: undefined,
    });
  });
});
