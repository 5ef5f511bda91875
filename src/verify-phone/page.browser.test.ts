import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../test/support/chromium.js';
import { REDIRECT_READINGS, startContinueServer } from '../../test/support/fake-auth0-redirect.js';
import { createVerifyHarness, newUser, type VerifyHarness } from '../../test/support/verify-harness.js';
import { findLinksByE164 } from '../phone-index/index.js';

/**
 * The verification page in a real Chromium at a phone's width: the Action's redirect in, a number typed, a
 * wrong code then the right one, and the redirect out to a loopback stand-in for Auth0's /continue, whose
 * transaction the real Action resumes. Screenshots for docs/verify-phone.md are taken on the way.
 */

// The committed screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1); a normal run shoots to /tmp.
const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? resolve(import.meta.dirname, '../../docs')
  : mkdtempSync(join(tmpdir(), 'callerpop-shots-'));
const PHONE = '+14155550123';

let h: VerifyHarness;
let app: Server;
let appUrl: string;
let auth0: Awaited<ReturnType<typeof startContinueServer>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  // Ports first: callerpop's public URL and Auth0's continue URL are configuration, fixed before start.
  let handler: ReturnType<typeof getRequestListener> | undefined;
  app = createServer((req, res) => handler?.(req, res));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  auth0 = await startContinueServer(() => h.tenant);
  h = await createVerifyHarness({ env: { PUBLIC_BASE_URL: appUrl, AUTH0_CONTINUE_BASE_URL: auth0.baseUrl } });
  handler = getRequestListener(h.ctx.app.fetch);

  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await auth0?.close();
  await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  await h?.close();
});

async function shoot(p: Page, name: string) {
  await p.screenshot({ path: resolve(SHOTS, `verify-phone-${name}.png`), fullPage: true });
}

describe('phone verification page in Chromium', () => {
  let aliceResult: string | null = null;

  it('walks from the redirect in to Auth0’s /continue, which lets the login finish', async () => {
    const login = h.tenant.login(h.action, newUser('google-oauth2|alice'));
    const { redirectUrl } = await login.execute();
    expect(redirectUrl?.startsWith(`${appUrl}/verify?`)).toBe(true);

    // An attacker's return address rides along; it must change nothing.
    await page.goto(`${redirectUrl}&redirect_uri=${encodeURIComponent('https://evil.example/continue')}`);
    expect(page.url()).toBe(`${appUrl}/verify`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Verify your phone number');

    const phone = page.getByLabel('Mobile phone number');
    await expect(phone.getAttribute('autocomplete')).resolves.toBe('tel');
    await phone.fill('(415) 555-0123');
    await phone.blur();
    await shoot(page, 'number');
    await page.getByRole('button', { name: 'Send code' }).click();

    await page.locator('h1', { hasText: 'Enter your code' }).waitFor();
    await expect(page.locator('.lead').textContent()).resolves.toContain('+1 415 555 0123');
    const code = h.twilio.lastCode(PHONE);
    expect(code).toMatch(/^\d{6}$/);

    const field = page.getByLabel('Verification code');
    await expect(field.getAttribute('autocomplete')).resolves.toBe('one-time-code');
    await expect(field.getAttribute('inputmode')).resolves.toBe('numeric');
    await field.fill(code === '246810' ? '135790' : '246810');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const error = page.locator('#code-error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toContain('That code is not right');
    // The error is tied to the field for screen readers.
    await expect(page.getByLabel('Verification code').getAttribute('aria-describedby')).resolves.toBe(
      'code-error',
    );
    await expect(page.getByLabel('Verification code').getAttribute('aria-invalid')).resolves.toBe('true');
    await shoot(page, 'code-error');

    await page.getByLabel('Verification code').fill(code ?? '');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('#signed-in').waitFor();

    const landed = new URL(page.url());
    expect(`${landed.origin}${landed.pathname}`).toBe(`${auth0.baseUrl}/continue`);
    expect(landed.searchParams.get('state')).toBe(login.state);
    expect(login.outcome.denied).toBeUndefined();
    expect(login.outcome.appMetadata.callerpop_verified_phone).toBe(PHONE);
    // Chromium also asks the stand-in for a favicon; every other request was the one /continue.
    expect(auth0.hits.filter((u) => u.pathname !== '/favicon.ico').map((u) => u.pathname)).toEqual([
      '/continue',
    ]);
    aliceResult = landed.searchParams.get('session_token');

    const links = await findLinksByE164(h.ctx.deps.db, PHONE);
    expect(links).toEqual([expect.objectContaining({ userId: 'google-oauth2|alice', verified: true })]);

    // Back on the page: the done state. Its button cannot resume the spent transaction again.
    await page.goto(`${appUrl}/verify`);
    await page.locator('h1', { hasText: 'Phone number verified' }).waitFor();
    await shoot(page, 'done');
    await page.getByRole('button', { name: 'Continue signing in' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('invalid_request');

    // The same redirect link a second time.
    await page.goto(redirectUrl ?? '');
    await expect(page.locator('h1').textContent()).resolves.toBe('This link has already been used');
  });

  it('refuses a result replayed into another user’s login', async () => {
    expect(aliceResult).toBeTruthy();
    const bob = h.tenant.login(h.action, newUser('auth0|bob'));
    await bob.execute();
    await page.goto(
      `${auth0.baseUrl}/continue?state=${encodeURIComponent(bob.state)}&session_token=${encodeURIComponent(aliceResult ?? '')}`,
    );
    await expect(page.locator('#denied').textContent()).resolves.toMatch(/Phone verification failed/);
    expect(bob.outcome.appMetadata).toEqual({});
  });

  // What Auth0's pages leave open (what validateToken() returns, iat, how strict it is): the login completes
  // under every reading of it.
  for (const [index, [name, readings]] of Object.entries(REDIRECT_READINGS).entries()) {
    it(`completes a login when Auth0 plays “${name}”`, async () => {
      h.tenant.readings = readings;
      const phone = `+1415555020${index}`;
      const login = h.tenant.login(h.action, newUser(`auth0|reading${index}`));
      const { redirectUrl } = await login.execute();
      await page.goto(redirectUrl ?? '');
      await page.getByLabel('Mobile phone number').fill(phone);
      await page.getByRole('button', { name: 'Send code' }).click();
      await page.locator('h1', { hasText: 'Enter your code' }).waitFor();
      await page.getByLabel('Verification code').fill(h.twilio.lastCode(phone) ?? '');
      await page.getByRole('button', { name: 'Verify', exact: true }).click();
      await page.locator('#signed-in').waitFor();
      expect(new URL(page.url()).searchParams.get('state')).toBe(login.state);
      expect(login.outcome.denied).toBeUndefined();
      expect(login.outcome.appMetadata.callerpop_verified_phone).toBe(phone);
    });
  }

  it('shows a clear page for a forged token and for an expired one', async () => {
    const login = h.tenant.login(h.action, newUser('auth0|carol', PHONE));
    const { redirectUrl } = await login.execute();
    const url = new URL(redirectUrl ?? '');
    const token = url.searchParams.get('session_token') ?? '';
    url.searchParams.set('session_token', `${token.slice(0, -6)}AAAAAA`);
    await page.goto(url.toString());
    await expect(page.locator('h1').textContent()).resolves.toBe('This link is not valid');

    h.clock.now += 10 * 60_000;
    await page.goto(redirectUrl ?? '');
    await expect(page.locator('h1').textContent()).resolves.toBe('This link has expired');
  });
});
