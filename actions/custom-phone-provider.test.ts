import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchNumber } from '../src/phone-index/matching.js';
import {
  auth0User,
  type CustomPhoneProviderModule,
  closeAuth0Fixture,
  confirmAliceByLogin,
  customPhoneProviderApi,
  customPhoneProviderEvent,
  loadAction,
  runNotification,
  type ServedApp,
  serveAuth0Fixture,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, rows } from '../test/support/auth0-context.js';

const NUMBER = '+14155550100';
const BLOCK_MESSAGE = 'Please use a different phone number.';

describe('actions/custom-phone-provider.js', () => {
  let f: Auth0Fixture;
  let served: ServedApp;
  const { onExecuteCustomPhoneProvider } = loadAction<CustomPhoneProviderModule>('custom-phone-provider');
  beforeEach(async () => {
    ({ f, served } = await serveAuth0Fixture({
      env: { ENROLLMENT_POLICY: 'block', ENROLLMENT_BLOCK_MESSAGE: BLOCK_MESSAGE },
    }));
  });
  afterEach(() => closeAuth0Fixture(f, served));
  const confirmAlice = async () => {
    expect(await confirmAliceByLogin(served.url)).toEqual([]);
  };

  it('delivers otp_enroll as text, neither retrying nor dropping', async () => {
    const { api, calls } = customPhoneProviderApi();
    await onExecuteCustomPhoneProvider(customPhoneProviderEvent(served.url, { code: '510332' }), api);
    expect(calls).toEqual([]);
    expect(f.twilio.messages).toMatchObject([
      { to: NUMBER, body: '510332 is your verification code for Acme.' },
    ]);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toMatchObject([{ sources: ['mfa_sms'] }]);
  });

  it('sends a code once when Auth0 runs the Action again for it (after api.notification.retry())', async () => {
    const first = customPhoneProviderApi();
    await onExecuteCustomPhoneProvider(customPhoneProviderEvent(served.url, { code: '510332' }), first.api);
    // Auth0 re-runs the notification (the first run timed out on its side): callerpop answers from its record.
    const again = customPhoneProviderApi();
    await onExecuteCustomPhoneProvider(customPhoneProviderEvent(served.url, { code: '510332' }), again.api);
    expect([first.calls, again.calls]).toEqual([[], []]);
    expect(f.twilio.messages).toHaveLength(1);
    // A new code, or the same code by voice, is a new message.
    await onExecuteCustomPhoneProvider(customPhoneProviderEvent(served.url, { code: '884120' }), first.api);
    await onExecuteCustomPhoneProvider(
      customPhoneProviderEvent(served.url, { code: '510332', deliveryMethod: 'voice' }),
      first.api,
    );
    expect(f.twilio.messages).toHaveLength(2);
    expect(f.twilio.calls).toHaveLength(1);
  });

  it('reads otp_verify by voice in the notification locale', async () => {
    const { api, calls } = customPhoneProviderApi();
    const event = customPhoneProviderEvent(served.url, {
      messageType: 'otp_verify',
      deliveryMethod: 'voice',
      code: '31',
      locale: 'es_MX',
    });
    await onExecuteCustomPhoneProvider(event, api);
    expect(calls).toEqual([]);
    expect(f.twilio.calls[0]?.twiml).toContain('<Say language="es-MX">Su código de verificación es</Say>');
  });

  it('sends account notifications without a code (blocked_account) and indexes them as a profile phone', async () => {
    const { api, calls } = customPhoneProviderApi();
    await onExecuteCustomPhoneProvider(
      customPhoneProviderEvent(served.url, { messageType: 'blocked_account' }),
      api,
    );
    expect(calls).toEqual([]);
    expect(f.twilio.messages).toMatchObject([{ body: 'Your Acme account was blocked.' }]);
    expect(await rows(f.ctx, 'select purpose, code_hash from otp_deliveries')).toEqual([
      { purpose: 'blocked_account', code_hash: null },
    ]);
  });

  it('asks Auth0 to retry when Twilio fails transiently (one code goes out on the retry), and drops what fails for good', async () => {
    f.twilio.failNext(1, { status: 503 });
    const transient = await runNotification(
      onExecuteCustomPhoneProvider,
      customPhoneProviderEvent(served.url, { code: '510332' }),
    );
    // API(custom-phone-provider): the retry is logged, then Auth0 runs the same notification again.
    expect(transient).toMatchObject({
      outcome: 'sent',
      runs: 2,
      log: [{ run: 1, level: 'error', method: 'retry', reason: 'twilio_20500' }],
      threw: [],
    });
    expect(f.twilio.messages).toMatchObject([{ body: '510332 is your verification code for Acme.' }]);

    f.twilio.failNext(1, {
      status: 400,
      code: 21408,
      message: 'Permission to send an SMS has not been enabled',
    });
    const final = await runNotification(
      onExecuteCustomPhoneProvider,
      customPhoneProviderEvent(served.url, {}),
    );
    expect(final).toMatchObject({
      outcome: 'dropped',
      runs: 1,
      log: [{ method: 'drop', reason: 'twilio_21408' }],
    });
  });

  it('asks Auth0 to retry while callerpop is unreachable, until Auth0 gives up; drops what callerpop refuses', async () => {
    const down = await runNotification(
      onExecuteCustomPhoneProvider,
      customPhoneProviderEvent('http://127.0.0.1:9', {}),
    );
    // "retry it up to 5 times": six runs in all, each logged.
    expect(down).toMatchObject({ outcome: 'gave_up', runs: 6, threw: [] });
    expect(down.log.map((entry) => entry.method)).toEqual(Array(6).fill('retry'));

    const premium = customPhoneProviderApi();
    await onExecuteCustomPhoneProvider(
      customPhoneProviderEvent(served.url, { recipient: '+19005550100' }),
      premium.api,
    );
    expect(premium.calls).toEqual([{ method: 'drop', reason: 'number_type_not_allowed' }]);
  });

  it('drops a refused enrollment with the configured message, and never throws', async () => {
    await onExecuteCustomPhoneProvider(
      customPhoneProviderEvent(served.url, {}),
      customPhoneProviderApi().api,
    );
    await confirmAlice();
    const bob = auth0User({ user_id: 'auth0|bob', email: 'bob@example.com' });
    const refused = await runNotification(
      onExecuteCustomPhoneProvider,
      customPhoneProviderEvent(served.url, { user: bob }),
    );
    // The reason reaches Auth0's logs only: the user gets no feedback from this provider.
    expect(refused).toEqual({
      outcome: 'dropped',
      runs: 1,
      log: [{ run: 1, level: 'error', method: 'drop', reason: `enrollment refused: ${BLOCK_MESSAGE}` }],
      threw: [],
    });
    expect(f.twilio.messages).toHaveLength(1);
  });
});
