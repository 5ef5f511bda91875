import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentServer, startAgentServer } from '../../test/support/agent-server.js';
import { launchChromium } from '../../test/support/chromium.js';
import { startTestIdp, type TestIdp } from '../../test/support/oidc-idp.js';
import { queryAudit } from '../audit/index.js';

/**
 * Agent sign-in with OpenID Connect, end to end: Chromium, callerpop, and a real OIDC provider on
 * loopback (authorization code + PKCE S256, client_secret_post, ID token with a namespaced roles claim).
 */

let s: AgentServer;
let idp: TestIdp | undefined;
let browser: Browser;

beforeAll(async () => {
  s = await startAgentServer({
    env: async (url) => {
      idp = await startTestIdp({
        redirectUri: `${url}/agent/callback`,
        roles: { alice: ['callerpop-agent'], carol: ['callerpop-agent', 'callerpop-admin'], bob: ['sales'] },
      });
      return {
        AGENT_AUTH: 'oidc',
        OIDC_ISSUER: idp.issuer,
        AUTH0_AGENT_CLIENT_ID: idp.clientId,
        AUTH0_AGENT_CLIENT_SECRET: idp.clientSecret,
        AGENT_REQUIRED_ROLE: 'callerpop-agent',
        AGENT_ADMIN_ROLE: 'callerpop-admin',
      };
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await s?.stop();
  await idp?.close();
});

/** Through the provider's own login and consent pages, as a person would. */
async function signInAs(login: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  let authorize: URL | undefined;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.href.startsWith(idp?.issuer ?? 'missing') && url.searchParams.has('client_id')) authorize ??= url;
  });
  await page.goto(`${s.url}/agent`);
  expect(page.url().startsWith(idp?.issuer ?? 'missing')).toBe(true);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.waitForLoadState();
  if (page.url().startsWith(idp?.issuer ?? 'missing')) {
    await page.locator('button[type="submit"]').click();
  }
  await page.waitForURL((url) => url.href.startsWith(s.url));
  (page as Page & { authorize?: URL }).authorize = authorize;
  return page;
}

describe('agent sign-in with OpenID Connect', () => {
  it('signs an agent with the required role in (code + PKCE) and lands on the console', async () => {
    const page = await signInAs('alice');
    expect(new URL(page.url()).pathname).toBe('/agent');
    await page.locator('#live-status', { hasText: 'Live' }).waitFor();
    await expect(page.locator('.who strong').textContent()).resolves.toBe('Alice');
    const me = (await (await page.request.get(`${s.url}/agent/api/me`)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ id: 'oidc:alice', method: 'oidc', admin: false, email: 'alice@example.com' });
    const forbidden = await page.request.get(`${s.url}/agent/api/audit`);
    expect(forbidden.status()).toBe(403);
    await page.context().close();
  });

  it('sent a PKCE S256 challenge, a state and a nonce', async () => {
    const page = await signInAs('alice');
    const authorize = (page as Page & { authorize?: URL }).authorize;
    expect(authorize?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize?.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorize?.searchParams.get('state')).toMatch(/.{16,}/);
    expect(authorize?.searchParams.get('nonce')).toMatch(/.{16,}/);
    await page.context().close();
  });

  it('refuses a user without the role, and audits the refusal', async () => {
    const page = await signInAs('bob');
    await expect(page.locator('h1').textContent()).resolves.toBe('Not signed in');
    await expect(page.locator('main').textContent()).resolves.toContain('not allowed');
    const res = await page.request.get(`${s.url}/agent/api/me`);
    expect(res.status()).toBe(401);
    const [refusal] = await queryAudit(s.deps.db, { action: 'sign_in_refused', limit: 1 });
    expect(refusal).toMatchObject({
      agentId: 'oidc:bob',
      detail: { method: 'oidc', reason: 'missing_role' },
    });
    await page.context().close();
  });

  it('lets an agent with the admin role read the audit log', async () => {
    const page = await signInAs('carol');
    const res = await page.request.get(`${s.url}/agent/api/audit?action=sign_in`);
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { entries: { agentId: string }[] };
    expect(body.entries.map((e) => e.agentId)).toEqual(expect.arrayContaining(['oidc:alice', 'oidc:carol']));
    await page.context().close();
  });

  it('refuses the ADMIN_TOKEN link when agents sign in with OIDC', async () => {
    const res = await fetch(`${s.url}/agent/login?token=${s.config.ADMIN_TOKEN}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')?.startsWith(idp?.issuer ?? 'missing')).toBe(true);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('callerpop_agent=');
  });

  it('refuses a callback without its transaction (forged or replayed)', async () => {
    const res = await fetch(`${s.url}/agent/callback?code=abc&state=def`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('set-cookie') ?? '').not.toContain('callerpop_agent=ey');
  });
});
