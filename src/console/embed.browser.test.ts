import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../../test/support/agent-server.js';
import { startTestIdp, type TestIdp } from '../../test/support/oidc-idp.js';
import { launchChromiumTrusting, makeTestCert } from '../../test/support/tls.js';
import { voiceParams } from '../../test/support/twilio-sign.js';

/**
 * The pop page inside another product's iframe (Flex's CRM container, a softphone tab), over real HTTPS:
 * a host page on another site (https://localhost:…) frames callerpop (https://127.0.0.1:…). Only origins
 * in AGENT_FRAME_ANCESTORS may frame it; the session cookie is SameSite=None; Secure so it is sent there.
 */

const cert = makeTestCert();
let app: AgentServer;
let allowedHost: Server;
let otherHost: Server;
let browser: Browser;
let iframeSrc = '';
let oidcApp: AgentServer;
let idp: TestIdp | undefined;

async function hostPage(): Promise<Server> {
  const server = createServer({ key: cert.key, cert: cert.cert }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>CRM</title><h1>Acme CRM</h1><iframe id="pop" title="callerpop" width="400" height="700" src="${iframeSrc}"></iframe>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return server;
}
const originOf = (server: Server) => `https://localhost:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  allowedHost = await hostPage();
  otherHost = await hostPage();
  app = await startAgentServer({ tls: cert, env: { AGENT_FRAME_ANCESTORS: originOf(allowedHost) } });
  await seedSharedNumber(app.deps);
  oidcApp = await startAgentServer({
    tls: cert,
    env: async (url) => {
      idp = await startTestIdp({
        redirectUri: `${url}/agent/callback`,
        roles: { alice: ['callerpop-agent'] },
      });
      return {
        AGENT_FRAME_ANCESTORS: originOf(allowedHost),
        AGENT_AUTH: 'oidc',
        OIDC_ISSUER: idp.issuer,
        AUTH0_AGENT_CLIENT_ID: idp.clientId,
        AUTH0_AGENT_CLIENT_SECRET: idp.clientSecret,
        AGENT_REQUIRED_ROLE: 'callerpop-agent',
      };
    },
  });
  await seedSharedNumber(oidcApp.deps);
  browser = await launchChromiumTrusting(cert);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await oidcApp?.stop();
  await idp?.close();
  allowedHost?.close();
  otherHost?.close();
});

describe('pop page in a third-party iframe', () => {
  it('signs in inside the frame and shows the live pop there', async () => {
    const page = await browser.newPage();
    const params = voiceParams('+14155550123');
    await app.twilioPost('/twilio/voice', params);
    iframeSrc = `${app.url}/agent/pop/${params.CallSid}`;
    await page.goto(originOf(allowedHost));
    const frame = page.frameLocator('#pop');
    // No session in this embedding yet: the frame shows the sign-in form, which works in place.
    await frame.locator('#token').fill(app.config.ADMIN_TOKEN);
    await frame.getByRole('button', { name: 'Sign in' }).click();
    await frame.locator(`article[data-twilio-sid="${params.CallSid}"]`).waitFor();
    await expect(frame.locator('.match .name').allTextContents()).resolves.toEqual([
      'Alice Martin',
      'Bob Martin',
    ]);
    await frame.locator('#live-status', { hasText: 'Live' }).waitFor();
    const [cookie] = await page.context().cookies(app.url);
    expect(cookie).toMatchObject({ name: 'callerpop_agent', sameSite: 'None', secure: true, httpOnly: true });
    expect((cookie as { partitionKey?: string }).partitionKey).toBe('https://localhost');

    // A status change arrives over the socket inside the frame.
    await app.twilioPost('/twilio/voice/status', { ...params, CallStatus: 'in-progress' });
    await frame.locator('.status', { hasText: 'In progress' }).waitFor();
    await page.close();
  });

  it('refuses to be framed by any other origin', async () => {
    const page = await browser.newPage();
    iframeSrc = `${app.url}/agent/login`;
    const blocked = page.waitForEvent('console', (msg) => msg.text().includes('frame-ancestors'));
    await page.goto(originOf(otherHost));
    await blocked;
    const frame = page.frames().find((f) => f !== page.mainFrame());
    // Chromium replaces the refused document with its own error page: none of callerpop's form is there.
    expect(await frame?.locator('#token').count()).toBe(0);
    await page.close();
  });

  it('signs in with OIDC in a new window and hands the session to the frame', async () => {
    const page = await browser.newPage();
    const params = voiceParams('+14155550123');
    await oidcApp.twilioPost('/twilio/voice', params);
    iframeSrc = `${oidcApp.url}/agent/pop/${params.CallSid}`;
    await page.goto(originOf(allowedHost));
    const frame = page.frameLocator('#pop');
    const popupOpened = page.waitForEvent('popup');
    await frame.getByRole('link', { name: 'Sign in (new window)' }).click();
    const popup = await popupOpened;
    await popup.locator('input[name="login"]').fill('alice');
    await popup.locator('input[name="password"]').fill('any password');
    await popup.locator('button[type="submit"]').click();
    await popup.waitForLoadState();
    if (popup.url().startsWith(idp?.issuer ?? 'missing'))
      await popup.locator('button[type="submit"]').click();
    await popup.waitForEvent('close');
    await frame.locator(`article[data-twilio-sid="${params.CallSid}"]`).waitFor();
    await frame.locator('#live-status', { hasText: 'Live' }).waitFor();
    await expect(frame.locator('.who strong').textContent()).resolves.toBe('Alice');
    await page.close();
  });

  it('refuses a forged handoff token', async () => {
    const res = await oidcApp.app.request(`${oidcApp.url}/agent/login/handoff`, {
      method: 'POST',
      headers: { origin: oidcApp.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=forged.token.value&returnTo=/agent',
    });
    expect(res.status).toBe(400);
  });
});
