import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newWebhookSecret, postAuth0Event, signAuth0Body } from '../../test/support/auth0-sign.js';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';

const registered = (userId = 'auth0|alice') => ({
  type: 'user.registered',
  occurred_at: Date.now(),
  user: {
    user_id: userId,
    email: 'alice@example.com',
    name: 'Alice',
    connection: 'Username-Password-Authentication',
  },
});

async function count(ctx: TestContext, table: string): Promise<number> {
  const rs = await ctx.deps.db.$client.execute(`select count(*) as n from ${table}`);
  return Number(rs.rows[0]?.n);
}

async function nothingWritten(ctx: TestContext) {
  expect(await count(ctx, 'accounts')).toBe(0);
  expect(await count(ctx, 'processed_events')).toBe(0);
}

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('POST /auth0/events signature (Standard Webhooks)', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());

  it('accepts a request signed with the configured secret and applies it', async () => {
    const res = await postAuth0Event(ctx.app, registered());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, applied: ['account'] });
    expect(await count(ctx, 'accounts')).toBe(1);
  });

  it('refuses a wrong secret with 401 and writes nothing', async () => {
    const res = await postAuth0Event(ctx.app, registered(), { secrets: [newWebhookSecret()] });
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe('unauthorized');
    await nothingWritten(ctx);
  });

  it('refuses timestamps 301 s old and 301 s ahead, accepts 299 s either way', async () => {
    for (const offset of [-301_000, 301_000]) {
      const event = { ...registered(), occurred_at: Date.now() + offset };
      const res = await postAuth0Event(ctx.app, event, { timestamp: new Date(Date.now() + offset) });
      expect(res.status, `offset ${offset}`).toBe(401);
    }
    await nothingWritten(ctx);
    for (const offset of [-299_000, 299_000]) {
      const event = { ...registered(`auth0|${offset}`), occurred_at: Date.now() + offset };
      const res = await postAuth0Event(ctx.app, event, { timestamp: new Date(Date.now() + offset) });
      expect(res.status, `offset ${offset}`).toBe(200);
    }
  });

  it('answers a replayed webhook-id with the first answer and changes nothing', async () => {
    const id = 'msg_replayed';
    const first = await postAuth0Event(ctx.app, registered(), { id });
    expect(first.status).toBe(200);
    const before = await ctx.deps.db.$client.execute('select * from accounts');
    // Same id, same signature scheme, different (newer) content: still the first answer, nothing applied.
    const replay = await postAuth0Event(
      ctx.app,
      { ...registered(), occurred_at: Date.now() + 1000, user: { user_id: 'auth0|alice', name: 'Mallory' } },
      { id },
    );
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual(await first.json());
    const after = await ctx.deps.db.$client.execute('select * from accounts');
    expect(after.rows).toEqual(before.rows);
  });

  it('refuses an altered body', async () => {
    const body = JSON.stringify(registered());
    const headers = signAuth0Body(body);
    const res = await ctx.app.request('/auth0/events', {
      method: 'POST',
      headers,
      body: body.replace('Alice', 'Mallory'),
    });
    expect(res.status).toBe(401);
    await nothingWritten(ctx);
  });

  it('accepts a space-separated list with one valid signature (secret rotation)', async () => {
    const res = await postAuth0Event(ctx.app, registered(), {
      secrets: [newWebhookSecret(), TEST_ENV.AUTH0_WEBHOOK_SECRET],
    });
    expect(res.status).toBe(200);
  });

  it('accepts either of two configured secrets (server-side rotation)', async () => {
    ctx.close();
    const next = newWebhookSecret();
    ctx = await createTestContext({
      env: { AUTH0_WEBHOOK_SECRET: `${TEST_ENV.AUTH0_WEBHOOK_SECRET} ${next}` },
    });
    expect((await postAuth0Event(ctx.app, registered('auth0|a'), { secrets: [next] })).status).toBe(200);
    const old = await postAuth0Event(ctx.app, registered('auth0|b'), {
      secrets: [TEST_ENV.AUTH0_WEBHOOK_SECRET],
    });
    expect(old.status).toBe(200);
    expect(
      (await postAuth0Event(ctx.app, registered('auth0|c'), { secrets: [newWebhookSecret()] })).status,
    ).toBe(401);
  });

  it('refuses more than five signatures before computing any HMAC, even with a valid one among them', async () => {
    const body = JSON.stringify(registered());
    const headers = signAuth0Body(body);
    const decoys = Array.from({ length: 5 }, () => signAuth0Body(body, { secrets: [newWebhookSecret()] }));
    const six = [...decoys.map((d) => d['webhook-signature']), headers['webhook-signature']].join(' ');
    const verify = vi.spyOn(crypto.subtle, 'verify');
    try {
      const res = await ctx.app.request('/auth0/events', {
        method: 'POST',
        headers: { ...headers, 'webhook-signature': six },
        body,
      });
      expect(res.status).toBe(401);
      expect(verify).not.toHaveBeenCalled();
      await nothingWritten(ctx);
      // Five (four decoys and the valid one) is within the limit.
      const five = [...decoys.slice(0, 4).map((d) => d['webhook-signature']), headers['webhook-signature']];
      const ok = await ctx.app.request('/auth0/events', {
        method: 'POST',
        headers: { ...headers, 'webhook-signature': five.join(' ') },
        body,
      });
      expect(ok.status).toBe(200);
    } finally {
      verify.mockRestore();
    }
  });

  it('refuses missing headers and unknown signature versions', async () => {
    const body = JSON.stringify(registered());
    const headers = signAuth0Body(body);
    const { 'webhook-signature': _omit, ...withoutSignature } = headers;
    expect(
      (await ctx.app.request('/auth0/events', { method: 'POST', headers: withoutSignature, body })).status,
    ).toBe(401);
    const v2 = { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') };
    expect((await ctx.app.request('/auth0/events', { method: 'POST', headers: v2, body })).status).toBe(401);
    const badTimestamp = { ...headers, 'webhook-timestamp': `${headers['webhook-timestamp']}abc` };
    expect(
      (await ctx.app.request('/auth0/events', { method: 'POST', headers: badTimestamp, body })).status,
    ).toBe(401);
    await nothingWritten(ctx);
  });

  it('answers 400 with a message for malformed JSON, an unknown type and an invalid field', async () => {
    const malformed = await postAuth0Event(ctx.app, null, { rawBody: '{"type": "user.registered",' });
    expect(malformed.status).toBe(400);
    expect(await errorOf(malformed)).toMatchObject({
      code: 'malformed_json',
      message: 'Body is not valid JSON',
    });

    const unknown = await postAuth0Event(ctx.app, { ...registered(), type: 'user.exploded' });
    expect(unknown.status).toBe(400);
    const unknownError = await errorOf(unknown);
    expect(unknownError.code).toBe('unknown_event_type');
    expect(unknownError.message).toContain('"user.exploded"');
    expect(unknownError.message).toContain('phone.deliver');

    const invalid = await postAuth0Event(ctx.app, { ...registered(), user: { email: 'x@example.com' } });
    expect(invalid.status).toBe(400);
    expect(await errorOf(invalid)).toMatchObject({ code: 'invalid_event' });
    expect((await errorOf(await postAuth0Event(ctx.app, { ...registered(), user: {} }))).message).toContain(
      'user.user_id',
    );

    // phone.deliver: the flow is one the Actions know; a user is required on every other event.
    const deliver = {
      type: 'phone.deliver',
      occurred_at: Date.now(),
      trigger: 'custom-phone-provider',
      user: null,
      message: { purpose: 'authentication', flow: 'sms_login', channel: 'sms', recipient: '+14155550100' },
    };
    const badFlow = await postAuth0Event(ctx.app, deliver);
    expect(badFlow.status).toBe(400);
    expect((await errorOf(badFlow)).message).toContain('message.flow');
    expect((await postAuth0Event(ctx.app, { ...registered(), user: null })).status).toBe(400);

    const skewed = await postAuth0Event(ctx.app, { ...registered(), occurred_at: Date.now() - 3_600_000 });
    expect(skewed.status).toBe(400);
    await nothingWritten(ctx);
  });

  it('answers 413 past the body limit, before verifying', async () => {
    const big = JSON.stringify({ ...registered(), padding: 'x'.repeat(70 * 1024) });
    const res = await postAuth0Event(ctx.app, null, { rawBody: big });
    expect(res.status).toBe(413);
    await nothingWritten(ctx);
  });
});
