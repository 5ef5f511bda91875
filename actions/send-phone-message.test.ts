import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchNumber } from '../src/phone-index/matching.js';
import {
  auth0User,
  closeAuth0Fixture,
  confirmAliceByLogin,
  loadAction,
  type SendPhoneMessageModule,
  type ServedApp,
  sendPhoneMessageEvent,
  serveApp,
  serveAuth0Fixture,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, createAuth0Fixture, rows } from '../test/support/auth0-context.js';
import { TEST_ENV } from '../test/support/context.js';

const NUMBER = '+14155550100';
const BLOCK_MESSAGE = 'Please use a different phone number.';

describe('actions/send-phone-message.js', () => {
  let f: Auth0Fixture;
  let served: ServedApp;
  const { onExecuteSendPhoneMessage } = loadAction<SendPhoneMessageModule>('send-phone-message');
  beforeEach(async () => {
    ({ f, served } = await serveAuth0Fixture({
      env: { ENROLLMENT_POLICY: 'block', ENROLLMENT_BLOCK_MESSAGE: BLOCK_MESSAGE },
    }));
  });
  afterEach(() => closeAuth0Fixture(f, served));
  const confirmAlice = async () => {
    expect(await confirmAliceByLogin(served.url)).toEqual([]);
  };

  it('delivers an enrollment SMS through callerpop and indexes the number', async () => {
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '771204' }));
    expect(f.twilio.messages).toMatchObject([
      {
        to: NUMBER,
        body: '771204 is your verification code for Acme. Please enter this code to verify your enrollment.',
      },
    ]);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toMatchObject([
      { userId: 'auth0|alice', sources: ['mfa_sms'], email: 'alice@example.com' },
    ]);
  });

  it('sends a code once when Auth0 runs the Action again for the same code', async () => {
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '771204' }));
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '771204' }));
    expect(f.twilio.messages).toHaveLength(1);
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '300912' }));
    expect(f.twilio.messages).toHaveLength(2);
  });

  it('derives the webhook-id from the event with the secret, so a stored id does not give the code away', async () => {
    const other = `whsec_${Buffer.from('a second callerpop secret, rotating').toString('base64')}`;
    await f.close();
    await served.close();
    f = await createAuth0Fixture({
      env: { AUTH0_WEBHOOK_SECRET: `${TEST_ENV.AUTH0_WEBHOOK_SECRET} ${other}` },
    });
    served = await serveApp(f.ctx.app);
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '771204' }));
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { code: '771204', secret: other }));
    const ids = (
      await rows(f.ctx, 'select event_id from processed_events where source = ?', ['auth0-action'])
    ).map((r) => String(r.event_id));
    // Same event, same code: only the secret differs, and so does the id.
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) {
      expect(id).toMatch(/^msg_[A-Za-z0-9_-]{43}$/);
      expect(id).not.toContain('771204');
    }
  });

  it('reads a second-factor code by voice', async () => {
    await onExecuteSendPhoneMessage(
      sendPhoneMessageEvent(served.url, {
        action: 'second-factor-authentication',
        messageType: 'voice',
        code: '90',
      }),
    );
    expect(f.twilio.calls).toHaveLength(1);
    expect(f.twilio.calls[0]?.twiml).toContain('<Say language="en-US">9</Say><Pause length="1"/>');
    expect(await rows(f.ctx, 'select purpose, channel, status from otp_deliveries')).toEqual([
      { purpose: 'authentication', channel: 'voice', status: 'sent' },
    ]);
  });

  it('throws the configured message when another account already uses the number (its api has no other way to fail; whether Auth0 shows the text is not documented)', async () => {
    await onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, {}));
    await confirmAlice();
    const bob = auth0User({ user_id: 'auth0|bob', email: 'bob@example.com', name: 'Bob' });
    await expect(onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { user: bob }))).rejects.toThrow(
      BLOCK_MESSAGE,
    );
    expect(f.twilio.messages).toHaveLength(1);
  });

  it('throws when the code cannot be delivered, so Auth0 does not take it as sent', async () => {
    f.twilio.failNext(1, { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    await expect(onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, {}))).rejects.toThrow(
      'twilio_21610',
    );
    await expect(
      onExecuteSendPhoneMessage(sendPhoneMessageEvent(served.url, { recipient: '+19005550100' })),
    ).rejects.toThrow('number_type_not_allowed');
  });

  it('throws on a wrong secret (callerpop answers 401) and on an unreachable callerpop', async () => {
    const wrong = sendPhoneMessageEvent(served.url, {
      secret: `whsec_${btoa('not-the-callerpop-secret-at-all!!')}`,
    });
    await expect(onExecuteSendPhoneMessage(wrong)).rejects.toThrow('callerpop answered 401');
    await expect(onExecuteSendPhoneMessage(sendPhoneMessageEvent('http://127.0.0.1:9', {}))).rejects.toThrow(
      'callerpop unreachable',
    );
    expect(f.twilio.requests).toHaveLength(0);
  });
});
