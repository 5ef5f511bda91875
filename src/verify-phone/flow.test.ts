import { afterEach, describe, expect, it } from 'vitest';
import { postAuth0Event } from '../../test/support/auth0-sign.js';
import { DEFAULT_READINGS } from '../../test/support/fake-auth0-redirect.js';
import {
  createVerifyHarness,
  newUser,
  PageClient,
  type VerifyHarness,
} from '../../test/support/verify-harness.js';
import { findLinksByE164, upsertLinks } from '../phone-index/index.js';

/** The whole round trip through the real app: Action → /verify → Twilio Verify → /continue → Action. */

let h: VerifyHarness;
afterEach(async () => h?.close());

const PHONE = '+14155550123';

async function arrive(harness: VerifyHarness, user = newUser('auth0|alice', '(415) 555-0123')) {
  const login = harness.tenant.login(harness.action, user);
  const outcome = await login.execute();
  if (!outcome.redirectUrl) throw new Error('the Action did not redirect');
  const page = new PageClient(harness.ctx);
  const res = await page.get(outcome.redirectUrl);
  return { login, page, res, redirectUrl: outcome.redirectUrl };
}

async function sendAndGetCode(harness: VerifyHarness, page: PageClient, phone = PHONE) {
  const csrf = await page.csrf();
  const res = await page.post('/verify/number', { csrf, phone, channel: 'sms' });
  expect(res.status).toBe(303);
  const code = harness.twilio.lastCode(phone.startsWith('+') ? phone : PHONE);
  if (!code) throw new Error('no code delivered');
  return { csrf, code };
}

describe('phone verification round trip', () => {
  it('verifies the number, and indexes it once the Action saw the result in the user’s own login', async () => {
    h = await createVerifyHarness();
    const { login, page, res } = await arrive(h);
    // The token leaves the URL at once; the session lives in a cookie.
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/verify');

    const first = await page.get('/verify');
    const html = await first.text();
    expect(first.status).toBe(200);
    expect(html).toContain('Verify your phone number');
    expect(html).toContain('value="+1 415 555 0123"');
    expect(first.headers.get('content-security-policy')).toContain(
      "form-action 'self' https://callerpop-test.eu.auth0.com",
    );

    const { csrf, code } = await sendAndGetCode(h, page);
    expect(h.twilio.requests.at(-1)).toMatchObject({
      path: expect.stringMatching(/\/v2\/Services\/VA\w+\/Verifications$/),
      form: { To: PHONE, Channel: 'sms' },
      authorized: true,
    });
    const codePage = await (await page.get('/verify')).text();
    expect(codePage).toContain('Enter your code');
    expect(codePage).toContain('+1 415 555 0123');

    const wrong = await page.post('/verify/code', { csrf, code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('That code is not right');
    expect(wrongHtml).toMatch(/aria-describedby="code-error"/);
    expect(wrongHtml).toMatch(/aria-invalid="true"/);

    const ok = await page.post('/verify/code', { csrf, code });
    expect(ok.status).toBe(303);
    const location = new URL(ok.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://callerpop-test.eu.auth0.com/continue');
    expect(location.searchParams.get('state')).toBe(login.state);

    // Not yet: the page may have been finished by someone the link was passed to.
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toEqual([]);

    const outcome = await h.tenant.continue(Object.fromEntries(location.searchParams));
    expect(outcome?.denied).toBeUndefined();
    expect(outcome?.appMetadata.callerpop_verified_phone).toBe(PHONE);
    expect(outcome?.userMetadata.phone_number).toBe(PHONE);
    // The Action told callerpop (phone.verified) and holds nothing for a later login.
    expect(outcome?.appMetadata.callerpop_phone_confirmation).toBeNull();
    const links = await findLinksByE164(h.ctx.deps.db, PHONE);
    expect(links).toEqual([
      expect.objectContaining({ userId: 'auth0|alice', source: 'profile', verified: true }),
    ]);

    // Coming back to the page shows the done state; its button mints a fresh result for the same state.
    const done = await page.get('/verify');
    expect(await done.text()).toContain('Phone number verified');
    const again = await page.post('/verify/continue', { csrf });
    expect(new URL(again.headers.get('location') ?? '').searchParams.get('state')).toBe(login.state);
  });

  it('asks for the number when the profile has none, in any format, and offers a voice call', async () => {
    h = await createVerifyHarness();
    const { page } = await arrive(h, newUser('google-oauth2|bob'));
    const html = await (await page.get('/verify')).text();
    expect(html).toContain('value=""');
    const csrf = await page.csrf();

    const bad = await page.post('/verify/number', { csrf, phone: 'call me maybe', channel: 'sms' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('Enter a valid phone number');
    expect(badHtml).toContain('aria-describedby="phone-hint phone-error"');
    expect(badHtml).toContain('value="call me maybe"');

    const res = await page.post('/verify/number', { csrf, phone: '0044 20 7946 0958', channel: 'call' });
    expect(res.status).toBe(303);
    expect(h.twilio.inbox.at(-1)).toMatchObject({ to: '+442079460958', channel: 'call' });
    expect(await (await page.get('/verify')).text()).toContain('We are calling');
  });

  it('makes the user wait before a resend, then resends by SMS or voice', async () => {
    h = await createVerifyHarness();
    const { page } = await arrive(h);
    const { csrf } = await sendAndGetCode(h, page);

    const early = await page.post('/verify/resend', { csrf, channel: 'call' });
    expect(early.status).toBe(429);
    expect(await early.text()).toMatch(/wait 30 seconds/);
    expect(h.twilio.inbox).toHaveLength(1);

    h.clock.now += 31_000;
    const later = await page.post('/verify/resend', { csrf, channel: 'call' });
    expect(later.status).toBe(303);
    expect(h.twilio.inbox.at(-1)).toMatchObject({ to: PHONE, channel: 'call' });

    // Switching numbers does not reset the cooldown.
    await page.post('/verify/change-number', { csrf });
    const other = await page.post('/verify/number', { csrf, phone: '+14155550199', channel: 'sms' });
    expect(other.status).toBe(429);
  });

  it('tells a landline user to pick a call, and maps Twilio’s limits to clear messages', async () => {
    h = await createVerifyHarness({ landlines: [PHONE] });
    const { page } = await arrive(h);
    const csrf = await page.csrf();
    const sms = await page.post('/verify/number', { csrf, phone: PHONE, channel: 'sms' });
    expect(sms.status).toBe(400);
    expect(await sms.text()).toContain('cannot receive text messages');
    expect((await page.post('/verify/number', { csrf, phone: PHONE, channel: 'call' })).status).toBe(303);
  });

  it('sends a new code when the old one expired at Twilio', async () => {
    h = await createVerifyHarness();
    const { page } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    h.twilio.expireAll();
    const res = await page.post('/verify/code', { csrf, code });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This code has expired');
  });
});

describe('index', () => {
  it('drops the verified flag of the old number when the profile names a new one', async () => {
    h = await createVerifyHarness();
    const old = '+14155550100';
    await upsertLinks(h.ctx.deps.db, [
      { e164: old, userId: 'auth0|carol', source: 'profile', verified: true, at: h.clock.now - 1000 },
    ]);
    const { page } = await arrive(h, newUser('auth0|carol', PHONE, old));
    // As soon as the user arrives: the profile no longer names the old number.
    expect((await findLinksByE164(h.ctx.deps.db, old))[0]?.verified).toBe(false);

    const { csrf, code } = await sendAndGetCode(h, page);
    const ok = await page.post('/verify/code', { csrf, code });
    expect(ok.status).toBe(303);
    await h.tenant.continue(Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams));
    expect((await findLinksByE164(h.ctx.deps.db, PHONE))[0]?.verified).toBe(true);
    expect((await findLinksByE164(h.ctx.deps.db, old))[0]?.verified).toBe(false);
  });
});

describe('logs', () => {
  it('never contain the code, the token or the full number', async () => {
    h = await createVerifyHarness();
    const { page, redirectUrl } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    await page.post('/verify/code', { csrf, code: code === '123456' ? '654321' : '123456' });
    await page.post('/verify/code', { csrf, code });
    const text = JSON.stringify(h.ctx.logger.lines);
    expect(h.ctx.logger.lines.some((l) => l.message.startsWith('verify: phone verified'))).toBe(true);
    expect(text).not.toContain(code);
    expect(text).not.toContain(new URL(redirectUrl).searchParams.get('session_token'));
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain('4155550123');
  });
});

describe('housekeeping', () => {
  it('deletes spent sessions, used tokens and old attempts as new sessions open', async () => {
    h = await createVerifyHarness();
    const { page } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    const ok = await page.post('/verify/code', { csrf, code });
    await h.tenant.continue(Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams));
    const count = async (table: string) =>
      Number((await h.ctx.deps.db.$client.execute(`select count(*) as n from ${table}`)).rows[0]?.n);
    expect(await count('verify_sessions')).toBe(1);

    h.clock.now += 2 * 60 * 60_000;
    await arrive(h, newUser('auth0|later', PHONE));
    expect(await count('verify_sessions')).toBe(1); // only the new one
    expect(await count('verify_used_tokens')).toBe(1);
    expect(await count('verify_attempts')).toBe(0);
    expect((await page.get('/verify')).status).toBe(400);
  });

  it('keeps a verified session the Action has not confirmed, so a later login can still confirm it', async () => {
    h = await createVerifyHarness();
    const { page } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    await page.post('/verify/code', { csrf, code });
    const resultId = (await h.ctx.deps.db.$client.execute('select result_id from verify_sessions')).rows[0]
      ?.result_id as string;

    h.clock.now += 2 * 60 * 60_000;
    await arrive(h, newUser('auth0|later', PHONE));
    expect(
      Number(
        (
          await h.ctx.deps.db.$client.execute(
            "select count(*) as n from verify_sessions where status = 'verified'",
          )
        ).rows[0]?.n,
      ),
    ).toBe(1);
    const event = {
      type: 'phone.verified',
      occurred_at: h.clock.now,
      user: { user_id: 'auth0|alice' },
      phone: PHONE,
      result_id: resultId,
    };
    const res = await postAuth0Event(h.ctx.app, event, { timestamp: new Date(h.clock.now) });
    expect(await res.json()).toEqual({ ok: true, confirmed: true });
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toEqual([
      expect.objectContaining({ userId: 'auth0|alice', verified: true }),
    ]);
  });
});

describe('a link passed to someone else', () => {
  it('indexes nothing when another person finishes the page: the login does not resume in their browser', async () => {
    h = await createVerifyHarness();
    // Mallory's login (in her browser) sends her to /verify; she passes the link to Victor, who opens it in his
    // browser and verifies his own number.
    const login = h.tenant.login(h.action, newUser('auth0|mallory'), { browser: 'mallory' });
    const { redirectUrl } = await login.execute();
    const victor = new PageClient(h.ctx);
    expect((await victor.get(redirectUrl ?? '')).status).toBe(303);
    const { csrf, code } = await sendAndGetCode(h, victor, '+14155550177');
    const ok = await victor.post('/verify/code', { csrf, code });
    expect(ok.status).toBe(303);
    const query = Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams);
    // Victor's browser holds no Auth0 transaction of Mallory's: /continue resumes nothing there.
    expect(await h.tenant.continue(query, { browser: 'victor' })).toBeNull();
    expect(login.continued).toBe(false);
    expect(await findLinksByE164(h.ctx.deps.db, '+14155550177')).toEqual([]);
  });

  it('under the reading where any browser with the state resumes the login, the link’s account gets it (documented risk)', async () => {
    h = await createVerifyHarness({ readings: { ...DEFAULT_READINGS, continueBinding: 'state' } });
    const login = h.tenant.login(h.action, newUser('auth0|mallory'), { browser: 'mallory' });
    const { redirectUrl } = await login.execute();
    const victor = new PageClient(h.ctx);
    await victor.get(redirectUrl ?? '');
    // The page names the account the number goes to, on every step: Victor can see it is not his.
    expect(await (await victor.get('/verify')).text()).toContain('For the account <strong>a•••@example.com');
    const { csrf, code } = await sendAndGetCode(h, victor, '+14155550177');
    const ok = await victor.post('/verify/code', { csrf, code });
    const query = Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams);
    const outcome = await h.tenant.continue(query, { browser: 'victor' });
    // Victor's browser would finish Mallory's login (he would be signed in as Mallory), and the number is hers.
    expect(outcome?.denied).toBeUndefined();
    expect(await findLinksByE164(h.ctx.deps.db, '+14155550177')).toEqual([
      expect.objectContaining({ userId: 'auth0|mallory', verified: true }),
    ]);
  });

  it('refuses a confirmation for another user or another number, and confirms a result once', async () => {
    h = await createVerifyHarness();
    const { login, page } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    const ok = await page.post('/verify/code', { csrf, code });
    const resultId = (
      await h.ctx.deps.db.$client.execute("select result_id from verify_sessions where status = 'verified'")
    ).rows[0]?.result_id as string;
    const confirm = async (userId: string, phone: string) => {
      const event = {
        type: 'phone.verified',
        occurred_at: h.clock.now,
        user: { user_id: userId },
        phone,
        result_id: resultId,
      };
      const res = await postAuth0Event(h.ctx.app, event, { timestamp: new Date(h.clock.now) });
      expect(res.status).toBe(200);
      return res.json();
    };
    expect(await confirm('auth0|mallory', PHONE)).toEqual({
      ok: true,
      confirmed: false,
      reason: 'other_user',
    });
    expect(await confirm('auth0|alice', '+14155550100')).toEqual({
      ok: true,
      confirmed: false,
      reason: 'other_phone',
    });
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toEqual([]);
    await h.tenant.continue(Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams));
    expect(login.continued).toBe(true);
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toHaveLength(1);
    expect(await confirm('auth0|alice', PHONE)).toEqual({ ok: true, confirmed: true });
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toHaveLength(1);
  });

  it('confirms at the next login when callerpop could not be reached on continue', async () => {
    h = await createVerifyHarness();
    const { login, page } = await arrive(h);
    const { csrf, code } = await sendAndGetCode(h, page);
    const ok = await page.post('/verify/code', { csrf, code });
    const reachable = h.tenant.secrets.CALLERPOP_URL;
    h.tenant.secrets = { ...h.tenant.secrets, CALLERPOP_URL: 'http://127.0.0.1:9' };
    const outcome = await h.tenant.continue(
      Object.fromEntries(new URL(ok.headers.get('location') ?? '').searchParams),
    );
    expect(outcome?.denied).toBeUndefined();
    const pending = outcome?.appMetadata.callerpop_phone_confirmation;
    expect(typeof pending).toBe('string');
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toEqual([]);

    // The next login sends it again; callerpop indexes and the marker goes.
    h.tenant.secrets = { ...h.tenant.secrets, CALLERPOP_URL: reachable as string };
    const next = h.tenant.login(h.action, {
      ...newUser('auth0|alice', PHONE),
      app_metadata: { callerpop_verified_phone: PHONE, callerpop_phone_confirmation: pending },
    } as never);
    const again = await next.execute();
    expect(again.redirectUrl).toBeUndefined();
    expect(again.appMetadata.callerpop_phone_confirmation).toBeNull();
    expect(await findLinksByE164(h.ctx.deps.db, PHONE)).toEqual([
      expect.objectContaining({ userId: 'auth0|alice', verified: true }),
    ]);
    expect(login.continued).toBe(true);
  });
});
