import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveRedirectSecret, REDIRECT_KEY_LABEL, signHs256 } from '../src/verify-phone/redirect-token.js';
import {
  type ActionUser,
  FakeAuth0Tenant,
  loadAction,
  REDIRECT_READINGS,
} from '../test/support/fake-auth0-redirect.js';

/**
 * The Action alone, run as Auth0 runs it (CommonJS, Node built-ins only) against an `api.redirect` that
 * behaves as documented. The round trip through callerpop is in test/verify-*.test.ts.
 */

const action = loadAction(resolve(import.meta.dirname, 'verify-phone.js'));
const DOMAIN = 'tenant.eu.auth0.com';
const CALLERPOP = 'https://callerpop.example.com';
const SECRET = `whsec_${Buffer.from('a-shared-secret-of-32-bytes-long!').toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.from('the-next-shared-secret-32-bytes!!').toString('base64')}`;
const tenant = new FakeAuth0Tenant(DOMAIN, { CALLERPOP_URL: `${CALLERPOP}/`, CALLERPOP_SECRET: SECRET });

function user(id: string, meta: Record<string, unknown> = {}, app: Record<string, unknown> = {}): ActionUser {
  return { user_id: id, user_metadata: meta, app_metadata: app };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** A result token exactly as callerpop makes it (createResultToken), with overrides. */
async function result(
  login: { state: string },
  sub: string,
  overrides: Record<string, unknown> = {},
  secret = SECRET,
) {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(
    {
      iss: CALLERPOP,
      aud: DOMAIN,
      sub,
      state: login.state,
      iat: now,
      exp: now + 120,
      jti: 'j1',
      callerpop_user_id: sub,
      callerpop_phone: '+14155550123',
      callerpop_verified_at: now,
      ...overrides,
    },
    await deriveRedirectSecret(secret),
  );
}

describe('onExecutePostLogin', () => {
  it('sends a user without a verified number to callerpop with a short-lived signed token', async () => {
    const login = tenant.login(action, user('auth0|1', { phone_number: '(415) 555-0123' }));
    const outcome = await login.execute();
    const url = new URL(outcome.redirectUrl ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${CALLERPOP}/verify`);
    expect(url.searchParams.get('state')).toBe(login.state);
    const claims = claimsOf(url.searchParams.get('session_token') ?? '');
    expect(claims).toMatchObject({ iss: DOMAIN, sub: 'auth0|1', phone: '4155550123' });
    // Auth0 puts the state in the URL, never in the token.
    expect(claims.state).toBeUndefined();
    expect(Number(claims.exp) - Number(claims.iat)).toBe(300);
    expect(claims.verified_phone).toBeUndefined();
  });

  it('names the account for the page with a masked email, never the whole address', async () => {
    const withEmail = { ...user('auth0|3'), email: 'alice.martin@example.com' };
    const outcome = await tenant.login(action, withEmail).execute();
    const token = new URL(outcome.redirectUrl ?? '').searchParams.get('session_token') ?? '';
    expect(claimsOf(token).account).toBe('a•••@example.com');
    expect(token).not.toContain('alice');
    const noEmail = await tenant.login(action, user('sms|4')).execute();
    expect(
      claimsOf(new URL(noEmail.redirectUrl ?? '').searchParams.get('session_token') ?? '').account,
    ).toBeUndefined();
  });

  it('sends a social user with no number at all', async () => {
    const outcome = await tenant.login(action, user('google-oauth2|2')).execute();
    const claims = claimsOf(new URL(outcome.redirectUrl ?? '').searchParams.get('session_token') ?? '');
    expect(claims.phone).toBeUndefined();
  });

  it('leaves verified users alone', async () => {
    const same = await tenant
      .login(
        action,
        user('auth0|3', { phone_number: '+14155550123' }, { callerpop_verified_phone: '+14155550123' }),
      )
      .execute();
    expect(same.redirectUrl).toBeUndefined();
    expect(same.denied).toBeUndefined();
    const none = await tenant
      .login(action, user('auth0|3', {}, { callerpop_verified_phone: '+14155550123' }))
      .execute();
    expect(none.redirectUrl).toBeUndefined();
  });

  it('asks again when the profile number changed since it was verified', async () => {
    const outcome = await tenant
      .login(
        action,
        user('auth0|4', { phone_number: '+14155550999' }, { callerpop_verified_phone: '+14155550123' }),
      )
      .execute();
    const claims = claimsOf(new URL(outcome.redirectUrl ?? '').searchParams.get('session_token') ?? '');
    expect(claims).toMatchObject({ phone: '+14155550999', verified_phone: '+14155550123' });
  });

  it('skips logins that cannot redirect (refresh tokens, password grant)', async () => {
    const outcome = await tenant.login(action, user('auth0|5'), { canRedirect: false }).execute();
    expect(outcome.redirectUrl).toBeUndefined();
    expect(outcome.denied).toBeUndefined();
  });

  it('denies with a clear reason when its secrets are missing', async () => {
    const bare = new FakeAuth0Tenant(DOMAIN, {});
    const outcome = await bare.login(action, user('auth0|6')).execute();
    expect(outcome.denied).toMatch(/CALLERPOP_URL and CALLERPOP_SECRET/);
  });

  it('signs with a key derived from CALLERPOP_SECRET, the same one callerpop derives', async () => {
    const expected = createHmac('sha256', SECRET).update(REDIRECT_KEY_LABEL).digest('base64url');
    expect(await deriveRedirectSecret(SECRET)).toBe(expected);
  });

  it('signs with the first of several space-separated secrets, never with the whole string', async () => {
    const rotating = new FakeAuth0Tenant(DOMAIN, {
      CALLERPOP_URL: CALLERPOP,
      CALLERPOP_SECRET: `${NEW_SECRET} ${SECRET}`,
    });
    const outcome = await rotating.login(action, user('auth0|1')).execute();
    const token = new URL(outcome.redirectUrl ?? '').searchParams.get('session_token') ?? '';
    const [h, p, sig] = token.split('.');
    expect(sig).toBe(
      createHmac('sha256', await deriveRedirectSecret(NEW_SECRET))
        .update(`${h}.${p}`)
        .digest('base64url'),
    );
  });
});

describe.each(Object.entries(REDIRECT_READINGS))('onContinuePostLogin (%s)', (_name, readings) => {
  const tenant = new FakeAuth0Tenant(
    DOMAIN,
    { CALLERPOP_URL: `${CALLERPOP}/`, CALLERPOP_SECRET: SECRET },
    readings,
  );

  it('records a verified number from callerpop in app_metadata and the profile', async () => {
    const login = tenant.login(action, user('auth0|7', { phone_number: '4155550123' }));
    await login.execute();
    const outcome = await login.resume({
      query: {
        state: login.state,
        session_token: await result(login, 'auth0|7', { callerpop_verified_at: 1.8e9 }),
      },
    });
    expect(outcome.denied).toBeUndefined();
    expect(outcome.appMetadata).toEqual({
      callerpop_verified_phone: '+14155550123',
      callerpop_phone_verified_at: new Date(1.8e9 * 1000).toISOString(),
    });
    expect(outcome.userMetadata).toEqual({ phone_number: '+14155550123' });
  });

  it('accepts the token from a POST body too', async () => {
    const login = tenant.login(action, user('auth0|8'));
    await login.execute();
    const outcome = await login.resume({ body: { session_token: await result(login, 'auth0|8') } });
    expect(outcome.denied).toBeUndefined();
  });

  it('accepts a result signed with any of its secrets (rotation)', async () => {
    const rotating = new FakeAuth0Tenant(
      DOMAIN,
      { CALLERPOP_URL: CALLERPOP, CALLERPOP_SECRET: `${NEW_SECRET} ${SECRET}` },
      readings,
    );
    for (const secret of [SECRET, NEW_SECRET]) {
      const login = rotating.login(action, user('auth0|10'));
      await login.execute();
      const outcome = await login.resume({
        query: { state: login.state, session_token: await result(login, 'auth0|10', {}, secret) },
      });
      expect(outcome.denied).toBeUndefined();
    }
  });

  it('refuses user A’s result inside user B’s login, even with B’s state', async () => {
    // What callerpop makes when Alice opens /verify with her own token and Bob's state parameter.
    const bob = tenant.login(action, user('auth0|bob'));
    await bob.execute();
    const token = await result(bob, 'auth0|alice');
    const outcome = await bob.resume({ query: { state: bob.state, session_token: token } });
    expect(outcome.denied).toMatch(/another user|did not come from/);
    expect(outcome.appMetadata).toEqual({});
  });

  const refusals: [string, (login: { state: string }) => Promise<string>, RegExp][] = [
    ['no token', async () => '', /did not come from callerpop/],
    [
      'a forged signature',
      async (l) => `${(await result(l, 'auth0|9')).slice(0, -4)}AAAA`,
      /did not come from/,
    ],
    ['another transaction', async () => result({ state: 'other-state' }, 'auth0|9'), /did not come from/],
    ['another user', async (l) => result(l, 'auth0|someone-else'), /did not come from|another user/],
    [
      'another user under our own claim only',
      async (l) => result(l, 'auth0|9', { callerpop_user_id: 'auth0|someone-else' }),
      /another user/,
    ],
    [
      'no user claim of ours',
      async (l) => result(l, 'auth0|9', { callerpop_user_id: undefined }),
      /another user/,
    ],
    [
      'an expired result',
      async (l) => result(l, 'auth0|9', { exp: Math.floor(Date.now() / 1000) - 1 }),
      /expired/,
    ],
    [
      'the incoming token sent back as a result',
      async () => {
        const login = tenant.login(action, user('auth0|9'));
        const { redirectUrl } = await login.execute();
        return new URL(redirectUrl ?? '').searchParams.get('session_token') ?? '';
      },
      /did not come from|another user/,
    ],
    ['no number', async (l) => result(l, 'auth0|9', { callerpop_phone: undefined }), /no verified phone/],
    [
      'a non-E.164 number',
      async (l) => result(l, 'auth0|9', { callerpop_phone: '415 555 0123' }),
      /no verified phone/,
    ],
  ];
  for (const [name, make, reason] of refusals) {
    it(`denies the login for ${name}`, async () => {
      const login = tenant.login(action, user('auth0|9'));
      await login.execute();
      const outcome = await login.resume({ query: { state: login.state, session_token: await make(login) } });
      expect(outcome.denied).toMatch(reason);
      expect(outcome.appMetadata).toEqual({});
    });
  }
});
