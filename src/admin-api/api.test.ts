import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import { twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import { upsertAccounts, upsertLinks } from '../phone-index/index.js';

const AUTH = { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` };
let ctx: TestContext;

async function setup() {
  ctx = await createTestContext();
  const at = Date.UTC(2026, 0, 1);
  await upsertAccounts(ctx.deps.db, [
    { userId: 'auth0|dana', name: 'Dana Rivera', email: 'dana@example.com', connection: 'db', at },
    { userId: 'auth0|blocked', name: 'Blocked Person', blocked: true, at },
  ]);
  await upsertLinks(ctx.deps.db, [
    { e164: '+442079460123', userId: 'auth0|dana', source: 'mfa_sms', verified: true, at },
    { e164: '+442079460123', userId: 'auth0|blocked', source: 'profile', verified: false, at },
  ]);
}

afterEach(() => ctx?.close());

describe('/api authentication', () => {
  it.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-admin-token-000000' }],
    ['another scheme', { authorization: `Basic ${btoa(`admin:${TEST_ENV.ADMIN_TOKEN}`)}` }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('401 with %s', async (_name, headers) => {
    await setup();
    for (const path of ['/api/lookup?phone=%2B442079460123', '/api/interactions/CA123']) {
      const res = await ctx.app.request(path, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('unauthorized');
    }
  });
});

describe('GET /api/lookup', () => {
  it('returns every account that owns the number, ranked, with the shared-line flag', async () => {
    await setup();
    const res = await ctx.app.request('/api/lookup?phone=020%207946%200123&region=GB', { headers: AUTH });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { matches: Record<string, unknown>[] };
    expect(body).toMatchObject({
      e164: '+442079460123',
      display: '+44 20 7946 0123',
      sharedLine: true,
      policyWarning: false,
    });
    expect(body.matches).toMatchObject([
      { rank: 1, userId: 'auth0|dana', verified: true, blocked: false, sources: ['mfa_sms'] },
      { rank: 2, userId: 'auth0|blocked', blocked: true, evidence: 'unverified profile phone' },
    ]);
  });

  it('says why something is not a phone number', async () => {
    await setup();
    const res = await ctx.app.request('/api/lookup?phone=Anonymous', { headers: AUTH });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      e164: null,
      reason: 'withheld',
      matches: [],
      sharedLine: false,
      policyWarning: false,
    });
  });

  it('400 without a phone or with a malformed region', async () => {
    await setup();
    expect((await ctx.app.request('/api/lookup', { headers: AUTH })).status).toBe(400);
    expect((await ctx.app.request('/api/lookup?phone=1&region=GBR', { headers: AUTH })).status).toBe(400);
  });

  it('503 (not 500) when the index is unreachable', async () => {
    await setup();
    ctx.deps.db.$client.close();
    const res = await ctx.app.request('/api/lookup?phone=%2B442079460123', { headers: AUTH });
    expect(res.status).toBe(503);
  });
});

describe('GET /api/interactions/:sid', () => {
  it('returns the interaction view by Twilio SID and by callerpop id', async () => {
    await setup();
    const params = voiceParams('+442079460123');
    await ctx.app.request(twilioFormRequest('/twilio/voice', params));
    const bySid = await ctx.app.request(`/api/interactions/${params.CallSid}`, { headers: AUTH });
    expect(bySid.status).toBe(200);
    const view = (await bySid.json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      channel: 'voice',
      twilioSid: params.CallSid,
      caller: '+442079460123',
      e164: '+442079460123',
      callerDisplay: '+44 20 7946 0123',
      fromReason: null,
      to: '+14155550199',
      status: 'ringing',
      stirVerstat: 'TN-Validation-Passed-A',
      callerVerification: 'not_attempted',
      sharedLine: true,
    });
    expect(view.popUrl).toBe(`${TEST_ENV.PUBLIC_BASE_URL}/agent/pop/${view.id}`);
    const byId = await ctx.app.request(`/api/interactions/${view.id}`, { headers: AUTH });
    expect(await byId.json()).toEqual(view);
  });

  it('404 for an unknown SID', async () => {
    await setup();
    const res = await ctx.app.request('/api/interactions/CA00000000000000000000000000000000', {
      headers: AUTH,
    });
    expect(res.status).toBe(404);
  });
});
