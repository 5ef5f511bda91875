import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../../test/support/agent-server.js';
import { voiceParams } from '../../test/support/twilio-sign.js';
import { queryAudit } from '../audit/index.js';
import { signHandoff } from './session.js';
import { insertAgentSession } from './session-queries.js';

let s: AgentServer;
let cookie: string;

beforeAll(async () => {
  s = await startAgentServer();
  await seedSharedNumber(s.deps);
  cookie = await s.signIn();
});
afterAll(async () => {
  await s?.stop();
});

function openSocket(headers: Record<string, string> = {}) {
  const frames: Record<string, unknown>[] = [];
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/agent/socket`, {
    headers: { cookie, origin: s.url, ...headers },
  });
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, frames, opened };
}

async function until<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('agent sign-in', () => {
  it('sends an anonymous visitor to the sign-in page, keeping where it was going', async () => {
    const res = await fetch(`${s.url}/agent/pop/abc`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/agent/login?returnTo=%2Fagent%2Fpop%2Fabc');
  });

  it('sets an HttpOnly SameSite cookie from the token link and drops the token from the URL', async () => {
    const res = await fetch(`${s.url}/agent/login?token=${s.config.ADMIN_TOKEN}&returnTo=/agent`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/agent');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
  });

  it('refuses a wrong token and audits the refusal', async () => {
    const res = await fetch(`${s.url}/agent/login?token=not-the-token-at-all`, { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const refused = await queryAudit(s.deps.db, { action: 'sign_in_refused', limit: 5 });
    expect(refused.length).toBeGreaterThan(0);
  });

  it('counts repeated refusals on one audit entry per minute instead of a row each', async () => {
    const before = await queryAudit(s.deps.db, { action: 'sign_in_refused', limit: 500 });
    const post = (token: string) =>
      fetch(`${s.url}/agent/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
      });
    for (let i = 0; i < 12; i++) expect((await post(`wrong-token-${i}`)).status).toBe(401);
    const after = await queryAudit(s.deps.db, { action: 'sign_in_refused', limit: 500 });
    // The earlier test's refusal (same reason, same minute) may already hold the count.
    expect(after.length - before.length).toBeLessThanOrEqual(1);
    const entry = after[0];
    if (!entry) throw new Error('no refusal recorded');
    expect(entry).toMatchObject({ agentId: 'anonymous', detail: { method: 'token', reason: 'wrong_token' } });
    const repeats = Number(entry.detail.repeats);
    expect(repeats).toBeGreaterThanOrEqual(12);
    expect(await post('one-more-wrong-token')).toHaveProperty('status', 401);
    const [counted] = await queryAudit(s.deps.db, { action: 'sign_in_refused', limit: 1 });
    expect(counted).toMatchObject({ id: entry.id, detail: { repeats: repeats + 1 } });
  });

  it('refuses sign-in form bodies over 8 KiB with 413 before reading them', async () => {
    for (const path of ['/agent/login', '/agent/login/handoff', '/agent/logout']) {
      const res = await fetch(`${s.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${'a'.repeat(64 * 1024)}`,
      });
      expect(res.status).toBe(413);
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      expect(body.error.code).toBe('payload_too_large');
      expect(body.error.requestId).toBeTruthy();
    }
  });

  it('refuses a forged session cookie', async () => {
    const forged = `${cookie.slice(0, -4)}AAAA`;
    const res = await fetch(`${s.url}/agent/api/me`, { headers: { cookie: forged } });
    expect(res.status).toBe(401);
  });

  it('signs out only with the form token from our own origin', async () => {
    const me = (await (await fetch(`${s.url}/agent/api/me`, { headers: { cookie } })).json()) as {
      csrf: string;
    };
    const crossSite = await fetch(`${s.url}/agent/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `_csrf=${me.csrf}`,
    });
    expect(crossSite.status).toBe(403);
    const noToken = await fetch(`${s.url}/agent/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=wrong',
    });
    expect(noToken.status).toBe(403);
  });
});

describe('session handoff to a framed page', () => {
  it('opens a session once per handoff token', async () => {
    const token = await signHandoff(
      s.config,
      { sub: 'oidc:alice', name: 'Alice', email: null, method: 'oidc', admin: false },
      Date.now(),
    );
    const post = () =>
      fetch(`${s.url}/agent/login/handoff`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, returnTo: '/agent/pop/x' }).toString(),
      });
    const first = await post();
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/agent/pop/x');
    expect(first.headers.get('set-cookie')).toContain('callerpop_agent=');
    const replay = await post();
    expect(replay.status).toBe(400);
    expect(replay.headers.get('set-cookie')).toBeNull();
  });
});

describe('console pages', () => {
  it('serves the console with a frame-ancestors policy and the embedded state', async () => {
    const res = await fetch(`${s.url}/agent`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    const html = await res.text();
    expect(html).toContain('id="callerpop-state"');
    expect(html).toContain('/agent/assets/console.js');
  });

  it('escapes interaction data so it cannot close the state script', async () => {
    const res = await s.twilioPost('/twilio/sms', {
      AccountSid: s.config.TWILIO_ACCOUNT_SID,
      MessageSid: 'SM'.padEnd(34, 'f'),
      SmsSid: 'SM'.padEnd(34, 'f'),
      From: '</script><script>alert(1)</script>',
      To: '+14155550199',
      Body: 'hi',
      NumMedia: '0',
    });
    expect(res.status).toBe(200);
    const html = await (await fetch(`${s.url}/agent`, { headers: { cookie } })).text();
    expect(html).not.toContain('</script><script>alert(1)');
  });
});

describe('the push socket', () => {
  it('refuses an upgrade without a session or from another origin', async () => {
    const anonymous = new WebSocket(`${s.url.replace('http', 'ws')}/agent/socket`, {
      headers: { origin: s.url },
    });
    const status = await new Promise<number>((resolve) =>
      anonymous.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0)),
    );
    expect(status).toBe(401);
    const { opened } = openSocket({ origin: 'https://evil.example' });
    await expect(opened).rejects.toThrow('status 403');
  });

  it('says hello, pushes a pop once even when Twilio retries, and answers pings', async () => {
    const { ws, frames, opened } = openSocket();
    await opened;
    await until(() => frames.find((f) => f.type === 'hello'), 'hello');
    const params = voiceParams('+1 (415) 555-0123');
    const first = await s.twilioPost('/twilio/voice', params);
    expect(first.status).toBe(200);
    const retry = await s.twilioPost('/twilio/voice', params);
    expect(retry.status).toBe(200);
    const pop = await until(
      () =>
        frames.find(
          (f) =>
            f.type === 'interaction' && (f.interaction as { twilioSid: string }).twilioSid === params.CallSid,
        ),
      'pop',
    );
    const view = pop.interaction as { matches: { userId: string }[]; sharedLine: boolean };
    expect(view.matches.map((m) => m.userId)).toEqual(['auth0|alice', 'sms|bob']);
    expect(view.sharedLine).toBe(true);
    ws.send(JSON.stringify({ type: 'ping', t: 42 }));
    await until(() => frames.find((f) => f.type === 'pong' && f.t === 42), 'pong');
    const pops = frames.filter(
      (f) =>
        f.type === 'interaction' && (f.interaction as { twilioSid: string }).twilioSid === params.CallSid,
    );
    expect(pops).toHaveLength(1);
    ws.close();
  });

  it('replays what a client missed on resume, then says synced', async () => {
    const since = Date.now() - 1;
    const params = voiceParams('+14155550123');
    await s.twilioPost('/twilio/voice', params);
    const { ws, frames, opened } = openSocket();
    await opened;
    ws.send(JSON.stringify({ type: 'resume', since }));
    await until(() => frames.find((f) => f.type === 'synced'), 'synced');
    const replayed = frames
      .filter((f) => f.type === 'interaction')
      .map((f) => (f.interaction as { twilioSid: string }).twilioSid);
    expect(replayed).toContain(params.CallSid);
    ws.close();
    const [entry] = await queryAudit(s.deps.db, { action: 'console_view', limit: 1 });
    expect(entry).toMatchObject({
      agentId: 'token:admin',
      detail: { via: 'socket_resume', since, count: replayed.length, more: false },
    });
  });

  it('audits each catch-up page read over HTTP (who, since, how many)', async () => {
    const since = Date.now() - 1;
    await s.twilioPost('/twilio/voice', voiceParams('+14155550123'));
    const res = await fetch(`${s.url}/agent/api/since?cursor=${since}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { messages: unknown[]; more: boolean };
    expect(page.messages.length).toBeGreaterThan(0);
    const [entry] = await queryAudit(s.deps.db, { action: 'console_view', limit: 1 });
    expect(entry).toMatchObject({
      agentId: 'token:admin',
      agentName: 'Administrator',
      detail: { via: 'api_since', since, count: page.messages.length, more: false },
    });
  });

  /** A session the server keeps, whose cookie ends at `exp` (seconds): as a sign-in makes it. */
  async function sessionEnding(exp: number) {
    const now = Math.floor(Date.now() / 1000);
    const sid = `test-${crypto.randomUUID()}`;
    await insertAgentSession(s.deps.db, {
      id: sid,
      sub: 'token:admin',
      name: 'Administrator',
      email: null,
      method: 'token',
      admin: true,
      roles: '[]',
      createdAt: now * 1000,
      expiresAt: exp * 1000,
      lastSeenAt: now * 1000,
      rolesCheckedAt: now * 1000,
      revokedAt: null,
      revokedBy: null,
    });
    const claims = {
      purpose: 'agent-session',
      sub: 'token:admin',
      name: 'Administrator',
      email: null,
      method: 'token',
      admin: true,
      csrf: 'c'.repeat(24),
      sid,
      iat: now,
      exp,
    };
    return sign(claims, s.config.SESSION_SECRET, 'HS256');
  }

  it('closes the socket when the agent session ends (4401)', async () => {
    const shortLived = await sessionEnding(Math.floor(Date.now() / 1000) + 1);
    const { ws, opened } = openSocket({ cookie: `callerpop_agent=${shortLived}` });
    await opened;
    const code = await new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it("keeps a long session open (720 h is past setTimeout's 24.8-day limit)", async () => {
    const longLived = await sessionEnding(Math.floor(Date.now() / 1000) + 720 * 3600);
    const { ws, frames, opened } = openSocket({ cookie: `callerpop_agent=${longLived}` });
    let closedWith: number | undefined;
    ws.once('close', (code) => {
      closedWith = code;
    });
    await opened;
    await until(() => frames.find((f) => f.type === 'hello'), 'hello');
    ws.send(JSON.stringify({ type: 'ping', t: 720 }));
    await until(() => frames.find((f) => f.type === 'pong' && f.t === 720), 'pong');
    expect(closedWith).toBeUndefined();
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('closes the consoles of a session that signs out (4401), not those of another session', async () => {
    const leaving = await s.signIn();
    const staying = await s.signIn();
    const a = openSocket({ cookie: leaving });
    const b = openSocket({ cookie: staying });
    await Promise.all([a.opened, b.opened]);
    const me = (await (await fetch(`${s.url}/agent/api/me`, { headers: { cookie: leaving } })).json()) as {
      csrf: string;
    };
    const closed = new Promise<number>((resolve) => a.ws.once('close', (code) => resolve(code)));
    const res = await fetch(`${s.url}/agent/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: leaving, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${me.csrf}`,
    });
    expect(res.status).toBe(303);
    expect(await closed).toBe(4401);
    b.ws.send(JSON.stringify({ type: 'ping', t: 9 }));
    await until(() => b.frames.find((f) => f.type === 'pong' && f.t === 9), 'pong');
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    b.ws.close();
  });

  it('answers malformed frames with an error and closes on binary frames', async () => {
    const { ws, frames, opened } = openSocket();
    await opened;
    ws.send('{"type":"resume","since":"yesterday"}');
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'resume', since: 0, extra: true }));
    await until(() => (frames.filter((f) => f.type === 'error').length >= 3 ? true : undefined), 'errors');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(Buffer.from([1, 2, 3]));
    expect(await closed).toBe(1003);
  });
});

describe('manual lookup with the agent session', () => {
  it('accepts the session cookie on /api/lookup and audits the number looked up', async () => {
    const res = await fetch(`${s.url}/api/lookup?phone=${encodeURIComponent('(415) 555-0123')}`, {
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { e164: string; matches: unknown[] };
    expect(body.e164).toBe('+14155550123');
    expect(body.matches).toHaveLength(2);
    const [entry] = await queryAudit(s.deps.db, { action: 'lookup', limit: 1 });
    expect(entry).toMatchObject({
      agentId: 'token:admin',
      target: '+14155550123',
      detail: { via: 'api', matches: 2 },
    });
  });

  it('ignores the session cookie on a request another site makes', async () => {
    const res = await fetch(`${s.url}/api/lookup?phone=4155550123`, {
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(401);
  });

  it('audits the bearer token as a machine', async () => {
    const res = await fetch(`${s.url}/api/lookup?phone=4155550123`, {
      headers: { authorization: `Bearer ${s.config.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const [entry] = await queryAudit(s.deps.db, { action: 'lookup', limit: 1 });
    expect(entry?.agentId).toBe('api:admin-token');
  });
});

describe('audit', () => {
  it('records every pop view and lets an admin query it', async () => {
    const params = voiceParams('+14155550123');
    await s.twilioPost('/twilio/voice', params);
    const page = await fetch(`${s.url}/agent/pop/${params.CallSid}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(params.CallSid);
    const res = await fetch(`${s.url}/agent/api/audit?action=pop_view`, { headers: { cookie } });
    const body = (await res.json()) as { entries: { agentId: string; target: string; at: number }[] };
    expect(body.entries[0]?.agentId).toBe('token:admin');
    expect(body.entries[0]?.target).toMatch(/.+/);
    const bad = await fetch(`${s.url}/agent/api/audit?action=drop_tables`, { headers: { cookie } });
    expect(bad.status).toBe(400);
  });
});
