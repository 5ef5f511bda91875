import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../../test/support/agent-server.js';
import { launchChromium } from '../../test/support/chromium.js';
import { voiceParams } from '../../test/support/twilio-sign.js';
import { recordEnrollmentDecision } from '../auth0-feed/index.js';
import { upsertAccounts, upsertLinks } from '../phone-index/index.js';

/** The console in a real Chromium: sign in, live pops, manual lookup, withheld callers, reconnects. */

let s: AgentServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  s = await startAgentServer({ env: { AUTH0_DASHBOARD_TENANT: 'us/acme' } });
  await seedSharedNumber(s.deps);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

const card = (sid: string) => `article[data-twilio-sid="${sid}"]`;

async function waitLive(p: Page) {
  await p.locator('#live-status', { hasText: 'Live' }).waitFor();
}

describe('agent console in Chromium', () => {
  it('signs in with the token link and lands on a live console', async () => {
    await page.goto(`${s.url}/agent/login?token=${encodeURIComponent(s.config.ADMIN_TOKEN)}`);
    expect(new URL(page.url()).pathname).toBe('/agent');
    expect(page.url()).not.toContain('token=');
    await waitLive(page);
    await expect(page.locator('h1').textContent()).resolves.toBe('callerpop');
  });

  it('pops both accounts of a shared number on the console and on the pop page', async () => {
    const params = voiceParams('+1 415-555-0123');
    const res = await s.twilioPost('/twilio/voice', params);
    expect(res.status).toBe(200);
    const sid = params.CallSid as string;
    const item = page.locator(card(sid));
    await item.waitFor();
    await expect(item.locator('.number').textContent()).resolves.toBe('+1 415 555 0123');
    await expect(item.locator('.match .name').allTextContents()).resolves.toEqual([
      'Alice Martin',
      'Bob Martin',
    ]);
    await expect(item.locator('.shared').count()).resolves.toBe(1);
    await expect(item.locator('.trust').textContent()).resolves.toContain('verified by the carrier');
    const dash = await item.locator('.match a.dash').first().getAttribute('href');
    // The dashboard's user route: base64 of the URL-encoded id ('auth0%7Calice'), without '=' padding.
    expect(dash).toBe('https://manage.auth0.com/dashboard/us/acme/users/YXV0aDAlN0NhbGljZQ');

    const pop = await browser.newPage({ viewport: { width: 400, height: 800 } });
    await pop.context().addCookies(await page.context().cookies());
    await pop.goto(`${s.url}/agent/pop/${sid}`);
    await pop.locator(card(sid)).waitFor();
    await expect(pop.locator('h1.caller').textContent()).resolves.toContain('+1 415 555 0123');
    await expect(pop.locator('.match .name').allTextContents()).resolves.toEqual([
      'Alice Martin',
      'Bob Martin',
    ]);
    await pop.close();
  });

  it('looks a number up by hand, in any format', async () => {
    await page.locator('#lookup-phone').fill('(415) 555-0123');
    await page.locator('#lookup-phone').press('Enter');
    const results = page.locator('#lookup-results');
    await results.locator('.match').first().waitFor();
    await expect(results.locator('.lookup-number').textContent()).resolves.toBe('+1 415 555 0123');
    await expect(results.locator('.match .name').allTextContents()).resolves.toEqual([
      'Alice Martin',
      'Bob Martin',
    ]);

    await page.locator('#lookup-phone').fill('hello');
    await page.getByRole('button', { name: 'Look up' }).click();
    await results.locator('.notice').waitFor();
    await expect(results.locator('.match').count()).resolves.toBe(0);
  });

  it("links an account to the dashboard the way the dashboard's own links do", async () => {
    // A user id and its dashboard URL as published together in public repositories.
    const userId = 'auth0|61ec52e8a3cf250068b8cefe';
    const at = s.deps.now() - 60_000;
    await upsertAccounts(s.deps.db, [{ userId, name: 'Gina Published', connection: 'db', at }]);
    await upsertLinks(s.deps.db, [{ e164: '+14155550166', userId, source: 'mfa_sms', verified: true, at }]);
    const params = voiceParams('+14155550166');
    await s.twilioPost('/twilio/voice', params);
    const item = page.locator(card(params.CallSid as string));
    await item.waitFor();
    await expect(item.locator(`.match[data-user-id="${userId}"] a.dash`).getAttribute('href')).resolves.toBe(
      'https://manage.auth0.com/dashboard/us/acme/users/YXV0aDAlN0M2MWVjNTJlOGEzY2YyNTAwNjhiOGNlZmU',
    );
  });

  it('shows a withheld caller as such', async () => {
    const params = voiceParams('anonymous', { StirVerstat: 'No-TN-Validation' });
    await s.twilioPost('/twilio/voice', params);
    const item = page.locator(card(params.CallSid as string));
    await item.waitFor();
    await expect(item.locator('.number').textContent()).resolves.toBe('Number withheld');
    await expect(item.locator('.withheld').textContent()).resolves.toContain('withheld their number');
    await expect(item.locator('.match').count()).resolves.toBe(0);
  });

  it('shows an enrollment-policy warning, a blocked account and a caller no account uses', async () => {
    // Erin signs in with the number; ENROLLMENT_POLICY=warn let Frank (since blocked) enroll it for MFA.
    const warned = '+14155550144';
    const at = s.deps.now() - 60_000;
    await upsertAccounts(s.deps.db, [
      { userId: 'auth0|erin', name: 'Erin Diaz', email: 'erin@example.com', connection: 'db', at },
      { userId: 'auth0|frank', name: 'Frank Blocked', blocked: true, connection: 'db', at },
    ]);
    await upsertLinks(s.deps.db, [
      { e164: warned, userId: 'auth0|erin', source: 'mfa_sms', verified: true, at },
      { e164: warned, userId: 'auth0|frank', source: 'mfa_sms', verified: false, at },
    ]);
    await recordEnrollmentDecision(s.deps.db, {
      e164: warned,
      userId: 'auth0|frank',
      policy: 'warn',
      decision: 'warn',
      reason: 'conflict',
      conflicting: [{ userId: 'auth0|erin', sources: ['mfa_sms'] }],
      channel: 'sms',
      trigger: 'send-phone-message',
      createdAt: at,
    });

    const params = voiceParams(warned);
    await s.twilioPost('/twilio/voice', params);
    const item = page.locator(card(params.CallSid as string));
    await item.waitFor();
    await expect(item.locator('.notice.policy').textContent()).resolves.toContain(
      'Enrollment policy warning',
    );
    const frank = item.locator('.match[data-user-id="auth0|frank"]');
    await expect(frank.locator('.badge.bad').textContent()).resolves.toBe('Blocked');
    await expect(item.locator('.match.blocked').count()).resolves.toBe(1);

    const nobody = voiceParams('+14155550188');
    await s.twilioPost('/twilio/voice', nobody);
    const empty = page.locator(card(nobody.CallSid as string));
    await empty.waitFor();
    await expect(empty.locator('.no-match').textContent()).resolves.toBe('No account uses this number.');
    await expect(empty.locator('.notice.policy').count()).resolves.toBe(0);

    // The manual lookup says the same.
    const results = page.locator('#lookup-results');
    await page.locator('#lookup-phone').fill('415 555 0144');
    await page.locator('#lookup-phone').press('Enter');
    await results.locator('.match').first().waitFor();
    await expect(results.locator('.notice.policy').textContent()).resolves.toContain(
      'Enrollment policy warning',
    );
    await page.locator('#lookup-phone').fill('415 555 0188');
    await page.locator('#lookup-phone').press('Enter');
    await results.locator('.no-match').waitFor();
    await expect(results.locator('.notice.policy').count()).resolves.toBe(0);
  });

  it('loses no pop when the server drops the socket', async () => {
    s.hub.disconnectAll(1012, 'restart');
    const params = voiceParams('+14155550123');
    await s.twilioPost('/twilio/voice', params);
    await page.locator(card(params.CallSid as string)).waitFor();
    await waitLive(page);
    await expect(page.locator(card(params.CallSid as string)).count()).resolves.toBe(1);
  });

  it('loses no pop across a network blip', async () => {
    await page.context().setOffline(true);
    await page.locator('#live-status', { hasText: 'Offline' }).waitFor();
    const params = voiceParams('+14155550123');
    await s.twilioPost('/twilio/voice', params);
    await page.context().setOffline(false);
    await page.locator(card(params.CallSid as string)).waitFor();
    await waitLive(page);
  });

  it('shows each pop once', async () => {
    const sids = await page
      .locator('article[data-twilio-sid]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-twilio-sid')));
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('is keyboard reachable: skip link, lookup, sign out', async () => {
    await page.goto(`${s.url}/agent`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe(
      'Skip to main content',
    );
    const focusable: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      focusable.push(
        await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ''),
      );
    }
    expect(focusable).toContain('lookup-phone');
    expect(focusable).toContain('Sign out');
  });
});
