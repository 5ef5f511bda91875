import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { matchNumber } from '../src/phone-index/matching.js';
import { upsertLinks } from '../src/phone-index/write-queries.js';
import {
  auth0User,
  closeAuth0Fixture,
  loadAction,
  type PostLoginModule,
  postLoginApi,
  postLoginEvent,
  type ServedApp,
  serveAuth0Fixture,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, deliverEvent, rows } from '../test/support/auth0-context.js';
import { postAuth0Event } from '../test/support/auth0-sign.js';

const NUMBER = '+14155550100';

describe('actions/post-login.js', () => {
  let f: Auth0Fixture;
  let served: ServedApp;
  const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
  beforeEach(async () => {
    ({ f, served } = await serveAuth0Fixture());
  });
  afterEach(() => closeAuth0Fixture(f, served));

  it('refreshes the account and records linked identities', async () => {
    const user = auth0User({
      email: 'alice@new.example',
      identities: [
        {
          provider: 'auth0',
          user_id: 'alice',
          connection: 'Username-Password-Authentication',
          isSocial: false,
        },
        {
          provider: 'sms',
          user_id: '6612d0c3a1',
          connection: 'sms',
          isSocial: false,
          profileData: { phone_number: NUMBER },
        },
      ],
    });
    const { api, denied } = postLoginApi();
    await onExecutePostLogin(postLoginEvent(served.url, { user }), api);
    expect(denied).toEqual([]);
    const accounts = await rows(
      f.ctx,
      'select user_id, email, last_login_at, primary_user_id from accounts order by user_id',
    );
    expect(accounts).toMatchObject([
      { user_id: 'auth0|alice', email: 'alice@new.example', primary_user_id: null },
      { user_id: 'sms|6612d0c3a1', primary_user_id: 'auth0|alice' },
    ]);
    expect(Number(accounts[0]?.last_login_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('marks the phone verified after a phone MFA, from enrolledFactors and authentication.methods', async () => {
    await postAuth0Event(f.ctx.app, deliverEvent({ purpose: 'enrollment' }));
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches[0]?.evidence).toBe(
      'MFA phone, not yet verified',
    );

    const user = auth0User({ multifactor: ['guardian'], enrolledFactors: [{ type: 'phone' }] });
    const now = new Date().toISOString();
    const methods = [
      { name: 'pwd', timestamp: now },
      { name: 'mfa', type: 'phone', timestamp: now },
    ];
    await onExecutePostLogin(postLoginEvent(served.url, { user, methods }), postLoginApi().api);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toMatchObject([
      { userId: 'auth0|alice', verified: true, evidence: 'verified MFA phone' },
    ]);
  });

  it('removes the MFA phone when the user has no phone factor any more', async () => {
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', verified: true, at: Date.now() - 60_000 },
    ]);
    const user = auth0User({
      multifactor: ['guardian'],
      enrolledFactors: [{ type: 'otp' }, { type: 'recovery-code' }],
    });
    await onExecutePostLogin(postLoginEvent(served.url, { user }), postLoginApi().api);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toEqual([]);
  });

  it('reads only documented fields: blocked and last_login are on no event.user, the login time is the run', async () => {
    const before = Date.now();
    // Stored as blocked with an old last login; post-login's event.user carries neither.
    const user = auth0User({ blocked: true, last_login: '2020-01-01T00:00:00.000Z' });
    await onExecutePostLogin(postLoginEvent(served.url, { user }), postLoginApi().api);
    const [account] = await rows(f.ctx, 'select blocked, last_login_at from accounts');
    expect(account?.blocked).toBeNull();
    expect(Number(account?.last_login_at)).toBeGreaterThanOrEqual(before);
  });

  it('sends nothing for a refresh-token exchange: post-login runs for it, but it is no login', async () => {
    const user = auth0User({ multifactor: [], enrolledFactors: [] });
    await upsertLinks(f.ctx.deps.db, [
      { e164: NUMBER, userId: 'auth0|alice', source: 'mfa_sms', verified: true, at: Date.now() - 60_000 },
    ]);
    await onExecutePostLogin(
      postLoginEvent(served.url, { user, protocol: 'oauth2-refresh-token' }),
      postLoginApi().api,
    );
    expect(await rows(f.ctx, 'select count(*) as n from accounts')).toEqual([{ n: 0 }]);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toHaveLength(1);
    // The same user in an interactive login is applied (and its empty factor list removes the phone).
    await onExecutePostLogin(postLoginEvent(served.url, { user }), postLoginApi().api);
    expect(await rows(f.ctx, 'select count(*) as n from accounts')).toEqual([{ n: 1 }]);
    expect((await matchNumber(f.ctx.deps.db, NUMBER)).matches).toEqual([]);
  });

  it('lets the login through when callerpop is down', async () => {
    const { api, denied } = postLoginApi();
    await expect(
      onExecutePostLogin(postLoginEvent('http://127.0.0.1:9', { user: auth0User() }), api),
    ).resolves.toBe(undefined);
    expect(denied).toEqual([]);
  });
});
