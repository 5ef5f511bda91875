import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { type FakeTwilio, startFakeTwilio } from '../../test/support/fake-twilio.js';
import { parseConfig } from '../config.js';
import { createTwilioRest, TwilioRestError } from './rest.js';

const FROM = '+15005550006';
const SERVICE = `MG${'a'.repeat(32)}`;

function configFor(twilio: FakeTwilio, extra: Record<string, string> = {}) {
  return parseConfig({ ...TEST_ENV, TWILIO_API_BASE_URL: twilio.url, TWILIO_FROM_NUMBER: FROM, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<TwilioRestError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TwilioRestError);
  return err as TwilioRestError;
}

describe('Twilio REST client', () => {
  let twilio: FakeTwilio;
  beforeEach(async () => {
    twilio = await startFakeTwilio({
      accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
      authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
    });
  });
  afterEach(() => twilio.close());

  it('sends an SMS from the configured number with Basic auth and form fields', async () => {
    const rest = createTwilioRest({ config: configFor(twilio), fetch });
    const result = await rest.sendSms({ to: '+14155550100', body: 'Your code is 123456' });
    expect(result.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
    expect(twilio.messages).toEqual([
      {
        sid: result.sid,
        to: '+14155550100',
        from: FROM,
        messagingServiceSid: undefined,
        body: 'Your code is 123456',
      },
    ]);
    expect(twilio.requests[0]?.auth).toEqual({
      user: TEST_ENV.TWILIO_ACCOUNT_SID,
      password: TEST_ENV.TWILIO_AUTH_TOKEN,
    });
  });

  it('prefers the Messaging Service when one is configured', async () => {
    const rest = createTwilioRest({
      config: configFor(twilio, { TWILIO_MESSAGING_SERVICE_SID: SERVICE }),
      fetch,
    });
    const result = await rest.sendSms({ to: '+14155550100', body: 'x' });
    expect(result.status).toBe('accepted');
    expect(twilio.messages[0]).toMatchObject({ messagingServiceSid: SERVICE, from: undefined });
  });

  it('places a call with inline TwiML', async () => {
    const rest = createTwilioRest({ config: configFor(twilio), fetch });
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>1 2 3</Say></Response>';
    const result = await rest.startCall({ to: '+14155550100', twiml });
    expect(result.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(twilio.calls).toEqual([
      { sid: result.sid, to: '+14155550100', from: FROM, twiml, url: undefined },
    ]);
  });

  it('reports wrong credentials as a permanent error with Twilio code 20003', async () => {
    const rest = createTwilioRest({
      config: configFor(twilio, { TWILIO_AUTH_TOKEN: 'not-the-auth-token-000000' }),
      fetch,
    });
    const err = await failure(rest.sendSms({ to: '+14155550100', body: 'x' }));
    expect(err).toMatchObject({ transient: false, status: 401, code: 20003, reason: 'twilio_20003' });
    expect(twilio.messages).toHaveLength(0);
  });

  it('reports an invalid To as permanent (21211) and an unsubscribed recipient as permanent (21610)', async () => {
    const rest = createTwilioRest({ config: configFor(twilio), fetch });
    const invalid = await failure(rest.sendSms({ to: '12', body: 'x' }));
    expect(invalid).toMatchObject({ transient: false, status: 400, code: 21211 });
    expect(invalid.moreInfo).toBe('https://www.twilio.com/docs/errors/21211');

    twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    const unsubscribed = await failure(rest.sendSms({ to: '+14155550100', body: 'x' }));
    expect(unsubscribed).toMatchObject({ transient: false, code: 21610 });
    expect(unsubscribed.message).toBe('Attempt to send to unsubscribed recipient');
  });

  it('reports 5xx, 429 and a non-JSON error page as transient', async () => {
    const rest = createTwilioRest({ config: configFor(twilio), fetch });
    twilio.failNext(1, { status: 503 });
    twilio.failNext(1, { status: 429 });
    twilio.failNext(1, { status: 502, rawBody: '<html>Bad gateway</html>' });
    expect(await failure(rest.sendSms({ to: '+14155550100', body: 'x' }))).toMatchObject({
      transient: true,
      status: 503,
    });
    expect(await failure(rest.startCall({ to: '+14155550100', twiml: '<Response/>' }))).toMatchObject({
      transient: true,
      status: 429,
      code: 20429,
    });
    expect(await failure(rest.sendSms({ to: '+14155550100', body: 'x' }))).toMatchObject({
      transient: true,
      status: 502,
      code: null,
      reason: 'http_502',
    });
    // Then it works again.
    await rest.sendSms({ to: '+14155550100', body: 'x' });
    expect(twilio.messages).toHaveLength(1);
  });

  it('reports an unreachable Twilio as transient', async () => {
    const config = configFor(twilio);
    await twilio.close();
    const rest = createTwilioRest({ config, fetch });
    const err = await failure(rest.sendSms({ to: '+14155550100', body: 'x' }));
    expect(err).toMatchObject({ transient: true, status: null, reason: 'network' });
    twilio = await startFakeTwilio({ accountSid: 'x', authToken: 'y' });
  });

  it('refuses to send without a configured sender, without calling Twilio', async () => {
    const config = parseConfig({ ...TEST_ENV, TWILIO_API_BASE_URL: twilio.url });
    const rest = createTwilioRest({ config, fetch });
    expect(await failure(rest.sendSms({ to: '+14155550100', body: 'x' }))).toMatchObject({
      transient: false,
      reason: 'config',
    });
    expect(await failure(rest.startCall({ to: '+14155550100', twiml: '<Response/>' }))).toMatchObject({
      transient: false,
    });
    expect(twilio.requests).toHaveLength(0);
  });
});
