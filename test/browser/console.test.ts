import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../support/agent-server.js';
import { launchChromium } from '../support/chromium.js';
import { voiceParams } from '../support/twilio-sign.js';

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
    expect(dash).toBe('https://manage.auth0.com/dashboard/us/acme/users/auth0%7Calice');

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

  it('shows a withheld caller as such', async () => {
    const params = voiceParams('anonymous', { StirVerstat: 'No-TN-Validation' });
    await s.twilioPost('/twilio/voice', params);
    const item = page.locator(card(params.CallSid as string));
    await item.waitFor();
    await expect(item.locator('.number').textContent()).resolves.toBe('Number withheld');
    await expect(item.locator('.withheld').textContent()).resolves.toContain('withheld their number');
    await expect(item.locator('.match').count()).resolves.toBe(0);
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
