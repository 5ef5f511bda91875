import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { postActionEvent, worker } from './helpers.js';

/**
 * The Auth0 feed inside workerd: Standard Webhooks verification on Web Crypto, the enrollment policy, the OTP
 * relay's refusals (hashing the code with Web Crypto, recording in libSQL over HTTP) and Log Streams
 * ingestion in transactions — the same code the Node suite covers, on the runtime Cloudflare runs.
 */

const NUMBER = '+14155550177';

async function lookup(): Promise<{ matches: { userId: string; verified: boolean }[] }> {
  const res = await worker(`/api/lookup?phone=${encodeURIComponent(NUMBER)}`, {
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return res.json();
}

describe('the Auth0 feed on workerd', () => {
  it('verifies signatures, applies a registration, answers a replay the same, and refuses a wrong secret', async () => {
    const event = {
      type: 'user.registered',
      occurred_at: Date.now(),
      user: {
        user_id: 'auth0|workers-carol',
        email: 'carol@example.com',
        phone_number: NUMBER,
        phone_verified: true,
      },
    };
    const id = `msg_${crypto.randomUUID()}`;
    const first = await postActionEvent(event, env.AUTH0_WEBHOOK_SECRET, id);
    expect(first.status).toBe(200);
    const answer = await first.json();
    expect(answer).toEqual({ ok: true, applied: ['account', 'profile_phone'] });
    expect(await (await postActionEvent(event, env.AUTH0_WEBHOOK_SECRET, id)).json()).toEqual(answer);
    expect((await lookup()).matches).toMatchObject([{ userId: 'auth0|workers-carol', verified: true }]);

    const wrong = await postActionEvent(event, `whsec_${btoa('not-the-workers-webhook-secret!!')}`);
    expect(wrong.status).toBe(401);
  });

  it('answers an enrollment check and records an OTP refusal without calling Twilio', async () => {
    const check = await postActionEvent({
      type: 'phone.enrollment_check',
      occurred_at: Date.now(),
      user: { user_id: 'auth0|workers-dave' },
      phone_number: '+14155550178',
    });
    expect(await check.json()).toEqual({ allowed: true, decision: 'allow' });

    const refused = await postActionEvent({
      type: 'phone.deliver',
      occurred_at: Date.now(),
      trigger: 'custom-phone-provider',
      user: { user_id: 'auth0|workers-dave' },
      message: {
        purpose: 'authentication',
        channel: 'sms',
        recipient: '+19005550100',
        code: '123456',
        text: 'x',
      },
    });
    expect(await refused.json()).toEqual({
      delivered: false,
      retryable: false,
      reason: 'number_type_not_allowed',
    });
  });

  it('ingests Log Streams as they stream in: a user deletion (sdu) removes its number, a bad line is held', async () => {
    expect((await lookup()).matches).toMatchObject([{ userId: 'auth0|workers-carol' }]);
    const lines = [
      JSON.stringify({
        log_id: `workers-${crypto.randomUUID()}`,
        data: { type: 'sdu', date: new Date().toISOString(), user_id: 'auth0|workers-carol' },
      }),
      JSON.stringify({
        log_id: `workers-${crypto.randomUUID()}`,
        data: { type: 's', date: new Date().toISOString() },
      }),
      '{not json',
    ];
    const res = await worker('/auth0/log-stream', {
      method: 'POST',
      headers: { authorization: env.AUTH0_LOG_STREAM_TOKEN, 'content-type': 'application/json' },
      body: lines.join('\n'),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 3, applied: 1, duplicates: 0, ignored: 1, held: 1 });
    expect((await lookup()).matches).toEqual([]);
  });
});
