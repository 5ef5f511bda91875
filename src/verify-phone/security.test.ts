import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { REDIRECT_READINGS } from '../../test/support/fake-auth0-redirect.js';
import {
  AUTH0_DOMAIN,
  createVerifyHarness,
  newUser,
  PageClient,
  type VerifyHarness,
} from '../../test/support/verify-harness.js';
import { deriveRedirectSecret, signHs256 } from './redirect-token.js';

/** Everything an attacker could try against the redirect in, the form, and the redirect out. */

let h: VerifyHarness;
afterEach(async () => h?.close());

const PHONE = '+14155550123';
const CONTINUE = `https://${AUTH0_DOMAIN}/continue`;

/**
 * A token as encodeToken() makes it (redirect-with-actions.mdx, "Pass data to the external site": sub, iss,
 * exp, ip, the payload; iat in real tokens; no state), with the claims a test wants to get wrong.
 */
async function craft(claims: Record<string, unknown>, secret?: string) {
  const now = Math.floor(h.clock.now / 1000);
  return signHs256(
    { iss: AUTH0_DOMAIN, sub: 'auth0|mallory', ip: '203.0.113.7', iat: now, exp: now + 300, ...claims },
    secret ?? (await deriveRedirectSecret(TEST_ENV.AUTH0_WEBHOOK_SECRET)),
  );
}

async function open(page: PageClient, token: string, state = 'st-1', extra = '') {
  return page.get(
    `/verify?state=${encodeURIComponent(state)}&session_token=${encodeURIComponent(token)}${extra}`,
  );
}

/** Runs the Action, verifies on the page, and returns the continue URL the page sent the browser to. */
async function verifyThrough(userId: string, extraQuery = '', headers: Record<string, string> = {}) {
  const login = h.tenant.login(h.action, newUser(userId, PHONE));
  const { redirectUrl } = await login.execute();
  const page = new PageClient(h.ctx);
  expect((await page.get(`${redirectUrl}${extraQuery}`, headers)).status).toBe(303);
  const csrf = await page.csrf();
  expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' }, headers)).status).toBe(
    303,
  );
  const code = h.twilio.lastCode(PHONE) ?? '';
  const res = await page.post('/verify/code', { csrf, code }, headers);
  expect(res.status).toBe(303);
  return { login, location: new URL(res.headers.get('location') ?? '') };
}

describe('the token coming in', () => {
  it('refuses a forged token (wrong secret) without opening a session', async () => {
    h = await createVerifyHarness();
    const page = new PageClient(h.ctx);
    const res = await open(page, await craft({}, 'not-the-shared-secret'));
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('This link is not valid');
    expect((await page.get('/verify')).status).toBe(400);
  });

  it('refuses a token whose claims were edited after signing', async () => {
    h = await createVerifyHarness();
    const [head, , sig] = (await craft({})).split('.');
    const body = Buffer.from(JSON.stringify({ iss: AUTH0_DOMAIN, sub: 'auth0|admin', exp: 9e9 })).toString(
      'base64url',
    );
    expect((await open(new PageClient(h.ctx), `${head}.${body}.${sig}`)).status).toBe(401);
  });

  it('refuses alg "none" and other algorithms', async () => {
    h = await createVerifyHarness();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = {
      iss: AUTH0_DOMAIN,
      sub: 'auth0|x',
      exp: Math.floor(h.clock.now / 1000) + 60,
    };
    expect((await open(new PageClient(h.ctx), `${b64({ alg: 'none' })}.${b64(claims)}.`)).status).toBe(401);
    expect((await open(new PageClient(h.ctx), `${b64({ alg: 'HS512' })}.${b64(claims)}.c2ln`)).status).toBe(
      401,
    );
  });

  it('refuses an expired token', async () => {
    h = await createVerifyHarness();
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|late', PHONE)).execute();
    h.clock.now += 6 * 60_000; // the Action's tokens live 5 minutes
    const res = await new PageClient(h.ctx).get(redirectUrl ?? '');
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('This link has expired');
  });

  it('refuses a token from another issuer, even signed with the right secret', async () => {
    h = await createVerifyHarness();
    expect((await open(new PageClient(h.ctx), await craft({ iss: 'evil.eu.auth0.com' }))).status).toBe(401);
    expect((await open(new PageClient(h.ctx), await craft({ iss: undefined }))).status).toBe(401);
  });

  it('binds the session to the state parameter it arrived with, never to a claim in the token', async () => {
    h = await createVerifyHarness();
    const page = new PageClient(h.ctx);
    // Auth0 makes no state claim; one put there by someone else is ignored.
    expect((await open(page, await craft({ state: 'st-claimed', phone: PHONE }), 'st-query')).status).toBe(
      303,
    );
    const csrf = await page.csrf();
    expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' })).status).toBe(303);
    const res = await page.post('/verify/code', { csrf, code: h.twilio.lastCode(PHONE) ?? '' });
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('st-query');
    const claims = JSON.parse(
      Buffer.from(location.searchParams.get('session_token')?.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      state: 'st-query',
      sub: 'auth0|mallory',
      callerpop_user_id: 'auth0|mallory',
    });
  });

  it('opens a session for each of two logins of one user in the same second', async () => {
    h = await createVerifyHarness();
    const first = await h.tenant.login(h.action, newUser('auth0|twice', PHONE)).execute();
    const second = await h.tenant.login(h.action, newUser('auth0|twice', PHONE)).execute();
    expect((await new PageClient(h.ctx).get(first.redirectUrl ?? '')).status).toBe(303);
    expect((await new PageClient(h.ctx).get(second.redirectUrl ?? '')).status).toBe(303);
  });

  it('refuses a token used a second time, from any browser', async () => {
    h = await createVerifyHarness();
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|once', PHONE)).execute();
    expect((await new PageClient(h.ctx).get(redirectUrl ?? '')).status).toBe(303);
    const again = await new PageClient(h.ctx).get(redirectUrl ?? '');
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('already been used');
  });

  it('opens no second session from a respelling of a used token, nor from it with another state', async () => {
    h = await createVerifyHarness();
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|respell', PHONE)).execute();
    const url = new URL(redirectUrl ?? '', 'https://callerpop.test');
    const token = url.searchParams.get('session_token') ?? '';
    const state = url.searchParams.get('state') ?? '';
    expect((await open(new PageClient(h.ctx), token, state)).status).toBe(303);

    const signature = token.split('.')[2] ?? '';
    const bytes = Buffer.from(signature, 'base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respellings = [...alphabet]
      .filter((ch) => ch !== signature.at(-1))
      .map((ch) => `${token.slice(0, -1)}${ch}`)
      .filter((t) => Buffer.from(t.split('.')[2] ?? '', 'base64url').equals(bytes));
    expect(respellings).toHaveLength(3);
    for (const respelled of respellings) {
      const res = await open(new PageClient(h.ctx), respelled, state);
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // The token is used whatever state comes beside it: another state cannot turn it into a new session.
    const other = await open(new PageClient(h.ctx), token, `${state}-other`);
    expect(other.status).toBe(401);
    expect(await other.text()).toContain('already been used');
    expect(other.headers.get('set-cookie')).toBeNull();
  });

  it('asks for both state and token', async () => {
    h = await createVerifyHarness();
    expect((await new PageClient(h.ctx).get('/verify?state=abc')).status).toBe(400);
    expect((await new PageClient(h.ctx).get(`/verify?session_token=${await craft({})}`)).status).toBe(400);
  });

  it('says so when the page is not configured', async () => {
    h = await createVerifyHarness({ env: { TWILIO_VERIFY_SERVICE_SID: '' } });
    const res = await open(new PageClient(h.ctx), await craft({}));
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('not available');
  });
});

describe('the way back', () => {
  it('goes only to the configured /continue, whatever the request says', async () => {
    h = await createVerifyHarness();
    const { login, location } = await verifyThrough(
      'auth0|alice',
      '&redirect_uri=https%3A%2F%2Fevil.example%2Fcontinue&return_to=https%3A%2F%2Fevil.example&continue_uri=https%3A%2F%2Fevil.example',
      { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    );
    expect(`${location.origin}${location.pathname}`).toBe(CONTINUE);
    expect([...location.searchParams.keys()].sort()).toEqual(['session_token', 'state']);
    expect(location.searchParams.get('state')).toBe(login.state);
  });

  it('uses AUTH0_CONTINUE_BASE_URL when set (custom domain, private cloud, tests)', async () => {
    h = await createVerifyHarness({ env: { AUTH0_CONTINUE_BASE_URL: 'https://login.example.com/' } });
    const { location } = await verifyThrough('auth0|alice');
    expect(`${location.origin}${location.pathname}`).toBe('https://login.example.com/continue');
  });

  it('cannot be replayed into another user’s login', async () => {
    h = await createVerifyHarness();
    const { location } = await verifyThrough('auth0|alice');
    const bob = h.tenant.login(h.action, newUser('auth0|bob'));
    await bob.execute();
    // Alice's token with Bob's transaction state: the state in the token is Alice's.
    const outcome = await bob.resume({
      query: { state: bob.state, session_token: location.searchParams.get('session_token') ?? '' },
    });
    expect(outcome.denied).toMatch(/Phone verification failed/);
    expect(outcome.appMetadata).toEqual({});
  });

  it('cannot be replayed into a later login of the same user', async () => {
    h = await createVerifyHarness();
    const { location } = await verifyThrough('auth0|alice');
    const later = h.tenant.login(h.action, newUser('auth0|alice', PHONE));
    await later.execute();
    const outcome = await later.resume({
      query: { state: later.state, session_token: location.searchParams.get('session_token') ?? '' },
    });
    expect(outcome.denied).toMatch(/Phone verification failed/);
  });

  it('is refused by the Action once expired', async () => {
    h = await createVerifyHarness();
    const { location } = await verifyThrough('auth0|alice');
    h.clock.now += 3 * 60_000;
    const outcome = await h.tenant.continue(Object.fromEntries(location.searchParams));
    expect(outcome?.denied).toMatch(/has expired/);
  });
});

describe.each(Object.entries(REDIRECT_READINGS))(
  'a result for the wrong user (Auth0 plays “%s”)',
  (_n, readings) => {
    it('refuses user A’s result inside user B’s login', async () => {
      h = await createVerifyHarness({ readings });
      // Alice opens the page with her own link but the state parameter of Bob's login (the token has no state
      // claim, so nothing at callerpop can tell): the result is bound to Bob's state, and made for Alice.
      const bob = h.tenant.login(h.action, newUser('auth0|bob'));
      const bobUrl = new URL((await bob.execute()).redirectUrl ?? '');
      const alice = h.tenant.login(h.action, newUser('auth0|alice', PHONE));
      const aliceUrl = new URL((await alice.execute()).redirectUrl ?? '');
      aliceUrl.searchParams.set('state', bobUrl.searchParams.get('state') ?? '');
      const page = new PageClient(h.ctx);
      expect((await page.get(aliceUrl.toString())).status).toBe(303);
      const csrf = await page.csrf();
      await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' });
      const res = await page.post('/verify/code', { csrf, code: h.twilio.lastCode(PHONE) ?? '' });
      const location = new URL(res.headers.get('location') ?? '');
      expect(location.searchParams.get('state')).toBe(bob.state);

      const outcome = await h.tenant.continue(Object.fromEntries(location.searchParams));
      expect(outcome?.denied).toMatch(/Phone verification failed/);
      expect(bob.outcome.appMetadata).toEqual({});
      expect(bob.outcome.userMetadata).toEqual({});
    });
  },
);

describe('the form', () => {
  async function session() {
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|alice', PHONE)).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    return { page, csrf: await page.csrf() };
  }

  it('refuses a cross-site post (Origin check)', async () => {
    h = await createVerifyHarness();
    const { page, csrf } = await session();
    const evil = await page.post(
      '/verify/number',
      { csrf, phone: PHONE },
      { origin: 'https://evil.example' },
    );
    expect(evil.status).toBe(403);
    const none = await page.post('/verify/number', { csrf, phone: PHONE }, { origin: '' });
    expect(none.status).toBe(403);
    expect(h.twilio.inbox).toHaveLength(0);
  });

  it('refuses a post without this session’s CSRF token', async () => {
    h = await createVerifyHarness();
    const { page } = await session();
    const other = await session();
    expect((await page.post('/verify/number', { phone: PHONE })).status).toBe(403);
    const foreign = await page.post('/verify/number', { csrf: other.csrf, phone: PHONE });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('This form has expired');
    expect(h.twilio.inbox).toHaveLength(0);
  });

  it('refuses posts without a session, and oversized bodies', async () => {
    h = await createVerifyHarness();
    const page = new PageClient(h.ctx);
    expect((await page.post('/verify/code', { csrf: 'x', code: '123456' })).status).toBe(400);
    const { page: p2, csrf } = await session();
    expect((await p2.post('/verify/number', { csrf, phone: 'x'.repeat(20_000) })).status).toBe(413);
  });

  it('sets a session cookie that scripts cannot read and other sites do not send', async () => {
    h = await createVerifyHarness();
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|alice', PHONE)).execute();
    const res = await new PageClient(h.ctx).get(redirectUrl ?? '');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^__Host-callerpop_verify=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
  });
});

describe('a link opened by someone else', () => {
  it('shows whose account the number goes to, from the Action, on every step', async () => {
    h = await createVerifyHarness();
    // Mallory's login made the link; the person who opens it sees it is Mallory's account, not theirs.
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|mallory')).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    const numberStep = await (await page.get('/verify')).text();
    expect(numberStep).toContain('For the account <strong>a•••@example.com</strong>');
    expect(numberStep).toContain('Not your account? Close this page.');
    expect(numberStep).not.toContain('authmallory@example.com');
    const csrf = await page.csrf();
    expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' })).status).toBe(303);
    expect(await (await page.get('/verify')).text()).toContain('For the account <strong>a•••@example.com');
  });
});

describe('limits', () => {
  it('limits codes sent per (user, number), never per number alone', async () => {
    h = await createVerifyHarness({
      env: { VERIFY_MAX_SENDS_PER_HOUR: '2', VERIFY_RESEND_COOLDOWN_SECONDS: '0' },
    });
    // Three accounts type the same number: none is held back by the others.
    const pages: PageClient[] = [];
    for (const user of ['auth0|a', 'auth0|b', 'auth0|c']) {
      const { redirectUrl } = await h.tenant.login(h.action, newUser(user)).execute();
      const page = new PageClient(h.ctx);
      await page.get(redirectUrl ?? '');
      const res = await page.post('/verify/number', {
        csrf: await page.csrf(),
        phone: PHONE,
        channel: 'sms',
      });
      expect(res.status, user).toBe(303);
      pages.push(page);
    }
    // One account asking again and again reaches its own limit for the number.
    const [first] = pages as [PageClient];
    const csrf = await first.csrf();
    expect((await first.post('/verify/resend', { csrf, channel: 'sms' })).status).toBe(303);
    const limited = await first.post('/verify/resend', { csrf, channel: 'sms' });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many codes were requested for this number');
    expect(h.twilio.inbox).toHaveLength(4);
    // An hour later (in a new sign-in: the page lives 15 minutes) it may again.
    h.clock.now += 61 * 60_000;
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|a')).execute();
    const later = new PageClient(h.ctx);
    await later.get(redirectUrl ?? '');
    const again = await later.post('/verify/number', {
      csrf: await later.csrf(),
      phone: PHONE,
      channel: 'sms',
    });
    expect(again.status).toBe(303);
  });

  it('sends no code to a country outside OTP_ALLOWED_COUNTRIES, nor a text to a number that takes none', async () => {
    h = await createVerifyHarness({ env: { OTP_ALLOWED_COUNTRIES: 'US' } });
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|abroad')).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    const csrf = await page.csrf();
    const abroad = await page.post('/verify/number', { csrf, phone: '+447911123456', channel: 'sms' });
    expect(abroad.status).toBe(400);
    expect(await abroad.text()).toContain('Codes cannot be sent to numbers in this country.');
    const tollFree = await page.post('/verify/number', { csrf, phone: '+18005550123', channel: 'sms' });
    expect(tollFree.status).toBe(400);
    expect(await tollFree.text()).toContain('This number cannot receive text messages.');
    expect(h.twilio.requests.filter((r) => r.path.endsWith('/Verifications'))).toHaveLength(0);
    expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' })).status).toBe(303);
    expect(h.twilio.requests.filter((r) => r.path.endsWith('/Verifications'))).toHaveLength(1);
  });

  it('limits codes sent per user, across numbers', async () => {
    h = await createVerifyHarness({
      env: { VERIFY_MAX_SENDS_PER_HOUR: '2', VERIFY_RESEND_COOLDOWN_SECONDS: '0' },
    });
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|hopper')).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    const csrf = await page.csrf();
    const statuses: number[] = [];
    for (const phone of ['+14155550101', '+14155550102', '+14155550103']) {
      const res = await page.post('/verify/number', { csrf, phone });
      statuses.push(res.status);
      if (res.status === 303) await page.post('/verify/change-number', { csrf });
    }
    expect(statuses).toEqual([303, 303, 429]);
  });

  it('limits code checks before asking Twilio, and does not count the refused ones', async () => {
    h = await createVerifyHarness({ env: { VERIFY_MAX_CHECKS_PER_HOUR: '3' } });
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|guess', PHONE)).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    const csrf = await page.csrf();
    await page.post('/verify/number', { csrf, phone: PHONE });
    const code = h.twilio.lastCode(PHONE) ?? '';
    const wrong = code === '999999' ? '888888' : '999999';
    for (let i = 0; i < 3; i++)
      expect((await page.post('/verify/code', { csrf, code: wrong })).status).toBe(400);
    const checksAtTwilio = h.twilio.requests.filter((r) => r.path.endsWith('VerificationCheck')).length;
    for (let i = 0; i < 3; i++) {
      const blocked = await page.post('/verify/code', { csrf, code });
      expect(blocked.status).toBe(429);
    }
    expect(h.twilio.requests.filter((r) => r.path.endsWith('VerificationCheck')).length).toBe(checksAtTwilio);
    const counted = await h.ctx.deps.db.$client.execute(
      "select count(*) as n from verify_attempts where kind = 'check'",
    );
    expect(counted.rows[0]?.n).toBe(3);
  });

  it('passes on Twilio’s own check limit as a clear message', async () => {
    h = await createVerifyHarness({ env: { VERIFY_MAX_CHECKS_PER_HOUR: '100' } });
    const { redirectUrl } = await h.tenant.login(h.action, newUser('auth0|guess', PHONE)).execute();
    const page = new PageClient(h.ctx);
    await page.get(redirectUrl ?? '');
    const csrf = await page.csrf();
    await page.post('/verify/number', { csrf, phone: PHONE });
    const code = h.twilio.lastCode(PHONE) ?? '';
    const wrong = code === '999999' ? '888888' : '999999';
    for (let i = 0; i < 5; i++) await page.post('/verify/code', { csrf, code: wrong });
    const res = await page.post('/verify/code', { csrf, code });
    expect(res.status).toBe(429);
    expect(await res.text()).toContain('Too many wrong codes');
  });
});

describe.each(['same', 'new'] as const)(
  'nobody can lock another person out (Verify re-send returns the %s SID)',
  (resendSid) => {
    const VICTIM_PHONE = '+14155550142';

    async function sessionFor(userId: string) {
      const { redirectUrl } = await h.tenant.login(h.action, newUser(userId)).execute();
      const page = new PageClient(h.ctx);
      expect((await page.get(redirectUrl ?? '')).status).toBe(303);
      return { page, csrf: await page.csrf() };
    }
    const sidOf = async (userId: string) =>
      (
        await h.ctx.deps.db.$client.execute({
          sql: 'select verification_sid as sid from verify_sessions where user_id = ? order by created_at desc limit 1',
          args: [userId],
        })
      ).rows[0]?.sid as string | null;
    const checksBy = (sid: string | null) =>
      h.twilio.requests.filter((r) => r.path.endsWith('VerificationCheck') && r.form.VerificationSid === sid)
        .length;

    it('lets the owner verify after a stranger typed the number in and guessed twelve times', async () => {
      h = await createVerifyHarness({ verifyReadings: { resendSid } });
      const mallory = await sessionFor('auth0|mallory');
      expect(
        (
          await mallory.page.post('/verify/number', {
            csrf: mallory.csrf,
            phone: VICTIM_PHONE,
            channel: 'sms',
          })
        ).status,
      ).toBe(303);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push(
          (await mallory.page.post('/verify/code', { csrf: mallory.csrf, code: '000000' })).status,
        );
      // Mallory's own limit stops Mallory (Twilio's five checks first, then callerpop's ten).
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);

      const owner = await sessionFor('auth0|owner');
      expect(
        (await owner.page.post('/verify/number', { csrf: owner.csrf, phone: VICTIM_PHONE, channel: 'sms' }))
          .status,
      ).toBe(303);
      const ownerSid = await sidOf('auth0|owner');
      expect(ownerSid).not.toBe(await sidOf('auth0|mallory'));
      const done = await owner.page.post('/verify/code', {
        csrf: owner.csrf,
        code: h.twilio.lastCode(VICTIM_PHONE) ?? '',
      });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toContain('/continue');
      expect(checksBy(ownerSid)).toBe(1);
    });

    it('never checks a stranger’s guesses against the owner’s pending code', async () => {
      h = await createVerifyHarness({ verifyReadings: { resendSid } });
      const owner = await sessionFor('auth0|owner');
      expect(
        (await owner.page.post('/verify/number', { csrf: owner.csrf, phone: VICTIM_PHONE, channel: 'sms' }))
          .status,
      ).toBe(303);
      const ownerFirstSid = await sidOf('auth0|owner');

      // Mallory types the owner's number while the owner's code is pending, then guesses.
      const mallory = await sessionFor('auth0|mallory');
      expect(
        (
          await mallory.page.post('/verify/number', {
            csrf: mallory.csrf,
            phone: VICTIM_PHONE,
            channel: 'sms',
          })
        ).status,
      ).toBe(303);
      const mallorySid = await sidOf('auth0|mallory');
      expect(mallorySid).not.toBe(ownerFirstSid);
      for (let i = 0; i < 4; i++)
        await mallory.page.post('/verify/code', { csrf: mallory.csrf, code: '000000' });
      expect(checksBy(ownerFirstSid)).toBe(0);
      expect(h.twilio.checksOf(ownerFirstSid ?? '')).toBe(0);

      // Twilio keeps one pending code per number, so Mallory's send ended the owner's; asking again works.
      h.clock.now += 31_000;
      expect((await owner.page.post('/verify/resend', { csrf: owner.csrf, channel: 'sms' })).status).toBe(
        303,
      );
      const ownerSid = await sidOf('auth0|owner');
      expect(ownerSid).not.toBe(mallorySid);
      const done = await owner.page.post('/verify/code', {
        csrf: owner.csrf,
        code: h.twilio.lastCode(VICTIM_PHONE) ?? '',
      });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toContain('/continue');
      // And Mallory's guesses never reach the owner's verification.
      expect(
        (await mallory.page.post('/verify/code', { csrf: mallory.csrf, code: '000000' })).status,
      ).not.toBe(303);
      expect(checksBy(ownerSid)).toBe(1);
    });
  },
);
