import { sign } from 'hono/jwt';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AgentServer, startAgentServer } from '../../test/support/agent-server.js';
import { type FakeAuth0, startFakeAuth0 } from '../../test/support/fake-auth0.js';
import { createManagementApi } from '../auth0-api/index.js';
import { createRoleChecker } from './roles.js';
import { ROLE_CHECK_GRACE_MS, ROLE_RECHECK_MS } from './session.js';
import { findAgentSession, insertAgentSession } from './session-queries.js';

/**
 * Server-side agent sessions, over a real HTTP server with real sockets: a copied cookie stops working at
 * sign-out, an administrator ends a session, and an OIDC agent whose role is taken away at the tenant (the
 * Management API stand-in, driven by the auth0 SDK) loses access at the next check, within ROLE_RECHECK_MS.
 */

let s: AgentServer | undefined;
let auth0: FakeAuth0 | undefined;
afterEach(async () => {
  await s?.stop();
  await auth0?.close();
  s = undefined;
  auth0 = undefined;
});

const get = (path: string, cookie: string) =>
  fetch(`${s?.url}${path}`, { headers: { cookie }, redirect: 'manual' });

function openSocket(cookie: string) {
  const ws = new WebSocket(`${s?.url.replace('http', 'ws')}/agent/socket`, {
    headers: { cookie, origin: s?.url ?? '' },
  });
  const outcome = new Promise<{ opened: boolean; status?: number }>((resolve) => {
    ws.once('open', () => resolve({ opened: true }));
    ws.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
    ws.once('error', () => resolve({ opened: false }));
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, outcome, closed };
}

async function csrfOf(cookie: string): Promise<string> {
  return ((await (await get('/agent/api/me', cookie)).json()) as { csrf: string }).csrf;
}

describe('signing out', () => {
  it('ends the session on the server: a copied cookie opens no page, no API and no new socket', async () => {
    s = await startAgentServer();
    const cookie = await s.signIn();
    const copy = cookie;
    const socket = openSocket(cookie);
    expect((await socket.outcome).opened).toBe(true);
    expect((await get('/agent/api/me', copy)).status).toBe(200);

    const out = await fetch(`${s.url}/agent/logout`, {
      method: 'POST',
      headers: { cookie, origin: s.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: await csrfOf(cookie) }),
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect(await socket.closed).toBe(4401);

    // The copy still carries a valid signature, and opens nothing.
    expect((await get('/agent/api/me', copy)).status).toBe(401);
    const page = await get('/agent', copy);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/agent\/login/);
    expect(
      (await fetch(`${s.url}/api/lookup?phone=%2B14155550123`, { headers: { cookie: copy } })).status,
    ).toBe(401);
    expect(await openSocket(copy).outcome).toEqual({ opened: false, status: 401 });
  });
});

describe('an administrator', () => {
  const bearer = () => ({ authorization: `Bearer ${s?.config.ADMIN_TOKEN}` });

  it('lists the sessions in force and ends one; its cookie and its sockets stop at once', async () => {
    s = await startAgentServer();
    const first = await s.signIn();
    const second = await s.signIn();
    const socket = openSocket(first);
    expect((await socket.outcome).opened).toBe(true);

    const listed = (await (await fetch(`${s.url}/api/agent-sessions`, { headers: bearer() })).json()) as {
      sessions: { id: string; agent: string; method: string }[];
    };
    expect(listed.sessions).toHaveLength(2);
    expect(listed.sessions.every((x) => x.agent === 'token:admin' && x.method === 'token')).toBe(true);

    // Which listed session is `first`: the one whose revocation stops the `first` cookie.
    let ended: string | undefined;
    for (const { id } of listed.sessions) {
      const res = await fetch(`${s.url}/api/agent-sessions/${id}`, { method: 'DELETE', headers: bearer() });
      expect(res.status).toBe(200);
      if ((await get('/agent/api/me', first)).status === 401) {
        ended = id;
        break;
      }
      expect((await get('/agent/api/me', second)).status).toBe(401);
    }
    expect(ended).toBeDefined();
    expect(await socket.closed).toBe(4401);
    const again = await fetch(`${s.url}/api/agent-sessions/${ended}`, {
      method: 'DELETE',
      headers: bearer(),
    });
    expect(again.status).toBe(404);
    const row = await findAgentSession(s.deps.db, ended as string);
    expect(row?.revokedBy).toBe('api:admin-token');
    const audit = await s.deps.db.$client.execute(
      "select action, target from audit_log where action like 'agent_session%'",
    );
    expect(audit.rows.map((r) => ({ ...r }))).toContainEqual({
      action: 'agent_session_revoke',
      target: ended,
    });
  });

  it('is the only one who may: an agent without the admin role gets 403, a stranger 401', async () => {
    s = await startAgentServer();
    const agent = await sessionCookie(s, { sub: 'oidc:auth0|agent', method: 'oidc', admin: false });
    const res = await fetch(`${s.url}/api/agent-sessions`, { headers: { cookie: agent } });
    expect(res.status).toBe(403);
    expect((await fetch(`${s.url}/api/agent-sessions`)).status).toBe(401);
    const del = await fetch(`${s.url}/api/agent-sessions/whatever`, {
      method: 'DELETE',
      headers: { cookie: agent },
    });
    expect(del.status).toBe(403);
  });
});

describe('an OIDC agent whose role is taken away', () => {
  const AGENT = 'auth0|agent-7';

  async function setup() {
    const clock = { now: Date.now() };
    auth0 = await startFakeAuth0({ users: [{ profile: { user_id: AGENT }, roles: ['callerpop-agent'] }] });
    const api = createManagementApi({
      domain: auth0.domain,
      clientId: auth0.clientId,
      clientSecret: auth0.clientSecret,
      apiBaseUrl: auth0.url,
      plan: 'free',
      fetch,
    });
    s = await startAgentServer({
      env: { AGENT_REQUIRED_ROLE: 'callerpop-agent' },
      deps: {
        now: () => clock.now,
        agentRoles: createRoleChecker(api, { required: 'callerpop-agent', admin: 'callerpop-admin' }),
      },
    });
    const cookie = await sessionCookie(s, {
      sub: `oidc:${AGENT}`,
      method: 'oidc',
      admin: false,
      at: clock.now,
    });
    return { clock, cookie, fake: auth0 };
  }

  it('loses access at the first request after ROLE_RECHECK_MS, and the session is revoked', async () => {
    const { clock, cookie, fake } = await setup();
    expect((await get('/agent/api/me', cookie)).status).toBe(200);
    fake.setRoles(AGENT, []);
    // Within the window the last check still stands (no call to Auth0 on every request).
    const rolesCalls = () => fake.log.filter((r) => r.path.endsWith('/roles')).length;
    expect((await get('/agent/api/me', cookie)).status).toBe(200);
    expect(rolesCalls()).toBe(0);

    clock.now += ROLE_RECHECK_MS;
    expect((await get('/agent/api/me', cookie)).status).toBe(401);
    expect(rolesCalls()).toBe(1);
    const sid = await sidOf(cookie);
    expect((await findAgentSession(s?.deps.db as never, sid))?.revokedBy).toBe('role removed');
    // A new socket is refused too.
    expect(await openSocket(cookie).outcome).toEqual({ opened: false, status: 401 });
  });

  it('keeps an agent who still holds the role, and picks up a new admin role', async () => {
    const { clock, cookie, fake } = await setup();
    fake.setRoles(AGENT, ['callerpop-agent', 'callerpop-admin']);
    clock.now += ROLE_RECHECK_MS;
    const me = (await (await get('/agent/api/me', cookie)).json()) as { admin: boolean };
    expect(me.admin).toBe(true);
  });

  it('closes open consoles to check them again, so an idle console cannot outlive the role', async () => {
    const { clock, cookie, fake } = await setup();
    // The hub closes a socket ROLE_RECHECK_MS after it opened (4000): opened "almost that long ago" here,
    // so the hub's own timer closes it shortly.
    clock.now = Date.now() - ROLE_RECHECK_MS + 300;
    const socket = openSocket(cookie);
    expect((await socket.outcome).opened).toBe(true);
    expect(await socket.closed).toBe(4000);
    // The console reconnects; by then the role is gone and the check is due.
    fake.setRoles(AGENT, []);
    clock.now = Date.now() + ROLE_RECHECK_MS;
    expect(await openSocket(cookie).outcome).toEqual({ opened: false, status: 401 });
  });

  it('goes on while Auth0 cannot be asked, for ROLE_CHECK_GRACE_MS after the last good check', async () => {
    const { clock, cookie, fake } = await setup();
    clock.now += ROLE_RECHECK_MS;
    fake.fail((r) => r.path.endsWith('/roles'), 503, 100);
    expect((await get('/agent/api/me', cookie)).status).toBe(200);
    expect(JSON.stringify(s?.logger.lines)).toContain('agent roles not checked');
    clock.now += ROLE_CHECK_GRACE_MS;
    expect((await get('/agent/api/me', cookie)).status).toBe(401);
    expect(JSON.stringify(s?.logger.lines)).toContain('roles not confirmed for too long');
  });
});

/** A session as an OIDC or token sign-in makes it (row and cookie), for a chosen agent. */
async function sessionCookie(
  server: AgentServer,
  agent: { sub: string; method: 'oidc' | 'token'; admin: boolean; at?: number },
): Promise<string> {
  const at = agent.at ?? Date.now();
  const iat = Math.floor(at / 1000);
  const exp = iat + 3600;
  const sid = `sid-${crypto.randomUUID()}`;
  await insertAgentSession(server.deps.db, {
    id: sid,
    sub: agent.sub,
    name: 'Agent Seven',
    email: 'seven@example.com',
    method: agent.method,
    admin: agent.admin,
    roles: '[]',
    createdAt: at,
    expiresAt: exp * 1000,
    lastSeenAt: at,
    rolesCheckedAt: at,
    revokedAt: null,
    revokedBy: null,
  });
  const jwt = await sign(
    {
      purpose: 'agent-session',
      sub: agent.sub,
      name: 'Agent Seven',
      email: 'seven@example.com',
      method: agent.method,
      admin: agent.admin,
      csrf: 'c'.repeat(24),
      sid,
      iat,
      exp,
    },
    server.config.SESSION_SECRET,
    'HS256',
  );
  return `callerpop_agent=${jwt}`;
}

async function sidOf(cookie: string): Promise<string> {
  const payload = cookie.split('=')[1]?.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sid: string }).sid;
}
