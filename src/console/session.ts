import type { Context } from 'hono';
import { deleteCookie, generateCookie, getCookie, setCookie } from 'hono/cookie';
import { sign, verify } from 'hono/jwt';
import type { CookieOptions } from 'hono/utils/cookie';
import * as z from 'zod/mini';
import type { Config } from '../config.js';
import type { AppDeps } from '../deps.js';
import type { AgentIdentity } from '../push/index.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import { describeError } from '../shared/logger.js';
import {
  findAgentSession,
  insertAgentSession,
  markRolesChecked,
  revokeAgentSession,
  touchAgentSession,
} from './session-queries.js';

/**
 * Agent sessions: an HS256 JWT (SESSION_SECRET) in an HttpOnly cookie naming a session the server keeps
 * (agent_sessions). The cookie alone is not enough: the session must exist, be unexpired and unrevoked, so
 * signing out, an administrator's revocation or a role taken away ends it at once for pages, the API and new
 * sockets, on Node and on every Worker isolate alike. OIDC agents' roles are asked of the identity provider
 * again once the last check is ROLE_RECHECK_MS old. The session carries its own CSRF token for forms and
 * fetches; the Origin check (hono/csrf) is the first line, the token the second.
 */

export const SESSION_COOKIE = 'callerpop_agent';
const OIDC_COOKIE = 'callerpop_oidc';

const sessionSchema = z.object({
  purpose: z.literal('agent-session'),
  sub: z.string().check(z.minLength(1), z.maxLength(300)),
  name: z.string().check(z.maxLength(300)),
  email: z.nullable(z.string().check(z.maxLength(300))),
  method: z.enum(['token', 'oidc']),
  /** May read the audit log. */
  admin: z.boolean(),
  csrf: z.string().check(z.minLength(16), z.maxLength(100)),
  /** The server-side session's id (agent_sessions): sign-out ends this one only, sockets included. */
  sid: z.optional(z.string().check(z.maxLength(100))),
  iat: z.number(),
  exp: z.number(),
});
export type AgentSession = z.infer<typeof sessionSchema>;

export type NewSession = Pick<AgentSession, 'sub' | 'name' | 'email' | 'method' | 'admin'> & {
  /** The roles and permissions the identity provider said the agent holds. */
  roles?: string[];
};

/** An OIDC agent's roles are asked again once this old: a role taken away ends the session within it. */
export const ROLE_RECHECK_MS = 5 * 60_000;
/** While the identity provider cannot be asked, a session goes on this long after its last good check. */
export const ROLE_CHECK_GRACE_MS = 15 * 60_000;
/** `lastSeenAt` is written at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000;

type SessionDeps = Pick<AppDeps, 'db' | 'config' | 'now' | 'logger' | 'hub' | 'agentRoles'>;

/**
 * Who is on a socket. Sockets are closed to be checked again (REVALIDATE, the console reconnects) every
 * ROLE_RECHECK_MS, so a revoked session or a removed role also ends sockets this process cannot reach (another
 * instance's sign-out), and for good at the session's end.
 */
export function agentIdentity(session: AgentSession, nowMs?: number): AgentIdentity {
  const agent: AgentIdentity = { id: session.sub, name: session.name, expiresAt: session.exp * 1000 };
  if (session.sid !== undefined) agent.session = session.sid;
  if (nowMs !== undefined) agent.revalidateAt = nowMs + ROLE_RECHECK_MS;
  return agent;
}

/** Whether agent pages may live in third-party iframes: framing configured and served over https. */
export function framingEnabled(config: Config): boolean {
  return config.AGENT_FRAME_ANCESTORS.length > 0 && config.PUBLIC_BASE_URL.startsWith('https://');
}

/**
 * Inside a third-party iframe (Flex, Salesforce) only SameSite=None cookies are sent; None needs Secure.
 * `partitioned`: the sign-in happened inside such an iframe, so the cookie is kept for that embedding
 * (CHIPS) and works even where the browser blocks third-party cookies.
 */
export function cookieOptions(config: Config, path = '/', partitioned = false): CookieOptions {
  const secure = config.PUBLIC_BASE_URL.startsWith('https://');
  const framed = framingEnabled(config);
  return {
    path,
    httpOnly: true,
    secure,
    sameSite: framed ? 'None' : 'Lax',
    ...(framed && partitioned ? { partitioned: true } : {}),
  };
}

export function randomToken(bytes = 24): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...data))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

export async function startSession(
  c: Context,
  deps: Pick<AppDeps, 'db' | 'config'>,
  input: NewSession,
  nowMs: number,
  options: { partitioned?: boolean } = {},
) {
  const { config } = deps;
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + config.AGENT_SESSION_HOURS * 3600;
  const { roles = [], ...identity } = input;
  const session: AgentSession = {
    purpose: 'agent-session',
    ...identity,
    csrf: randomToken(),
    sid: randomToken(16),
    iat,
    exp,
  };
  await insertAgentSession(deps.db, {
    id: session.sid as string,
    sub: session.sub,
    name: session.name,
    email: session.email,
    method: session.method,
    admin: session.admin,
    roles: JSON.stringify(roles),
    createdAt: nowMs,
    expiresAt: exp * 1000,
    lastSeenAt: nowMs,
    rolesCheckedAt: nowMs,
    revokedAt: null,
    revokedBy: null,
  });
  const jwt = await sign(session, config.SESSION_SECRET, 'HS256');
  setCookie(c, SESSION_COOKIE, jwt, {
    ...cookieOptions(config, '/', options.partitioned),
    maxAge: exp - iat,
  });
  return session;
}

/** Ends a session on the server (and its sockets): the cookie, wherever it was copied, opens nothing more. */
export async function revokeSession(
  deps: Pick<AppDeps, 'db' | 'hub' | 'now'>,
  sessionId: string,
  by: string,
): Promise<boolean> {
  const revoked = await revokeAgentSession(deps.db, sessionId, { at: deps.now(), by });
  await deps.hub.endSession?.(sessionId);
  return revoked;
}

/** Clears the session wherever it was kept: the site's own cookie jar and, when framed, the partition. */
export function endSession(c: Context, config: Config) {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(config));
  if (framingEnabled(config)) {
    c.header(
      'Set-Cookie',
      generateCookie(SESSION_COOKIE, '', { ...cookieOptions(config, '/', true), maxAge: 0 }),
      {
        append: true,
      },
    );
  }
}

/** The request is a navigation inside an iframe (Fetch Metadata). */
export function isFramedNavigation(c: Context): boolean {
  return c.req.header('sec-fetch-dest') === 'iframe';
}

/** The cookie's claims, checked for signature and shape only (the server's record is asked next). */
async function readCookie(c: Context, config: Config): Promise<AgentSession | null> {
  const raw = getCookie(c, SESSION_COOKIE);
  if (!raw || raw.length > 4096) return null;
  try {
    const payload = await verify(raw, config.SESSION_SECRET, 'HS256');
    const parsed = sessionSchema.safeParse(payload);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The signed-in agent, or null for a missing, forged, expired or malformed cookie, or a session the server
 * no longer keeps (signed out, revoked, its role taken away).
 */
export async function readSession(c: Context, deps: SessionDeps): Promise<AgentSession | null> {
  const cookie = await readCookie(c, deps.config);
  if (!cookie?.sid) return null;
  const now = deps.now();
  const row = await findAgentSession(deps.db, cookie.sid);
  if (!row || row.revokedAt !== null || row.expiresAt <= now || row.sub !== cookie.sub) return null;
  let admin = row.admin;
  const checker = deps.agentRoles;
  if (row.method === 'oidc' && checker && now - row.rolesCheckedAt >= ROLE_RECHECK_MS) {
    const userId = row.sub.replace(/^oidc:/, '');
    try {
      const verdict = await checker(userId);
      if (!verdict.allowed) {
        deps.logger.warn('agent session ended: the required role was taken away', { agent: row.sub });
        await revokeSession(deps, row.id, 'role removed');
        return null;
      }
      admin = verdict.admin;
      await markRolesChecked(deps.db, row.id, { admin, roles: verdict.held, at: now });
    } catch (err) {
      // The identity provider cannot be asked: the session goes on for a while on its last good check.
      if (now - row.rolesCheckedAt >= ROLE_CHECK_GRACE_MS) {
        deps.logger.error('agent session refused: roles not confirmed for too long', {
          agent: row.sub,
          error: describeError(err),
        });
        return null;
      }
      deps.logger.warn('agent roles not checked; the session goes on for now', {
        agent: row.sub,
        error: describeError(err),
      });
    }
  }
  if (now - row.lastSeenAt >= TOUCH_EVERY_MS) await touchAgentSession(deps.db, row.id, now);
  return { ...cookie, admin };
}

export function csrfMatches(session: AgentSession, presented: string | undefined | null): boolean {
  return typeof presented === 'string' && constantTimeEqual(presented, session.csrf);
}

// --- the OIDC transaction (state, nonce, PKCE verifier) between /agent/login and /agent/callback ---

const transactionSchema = z.object({
  purpose: z.literal('agent-oidc'),
  state: z.string().check(z.minLength(16)),
  nonce: z.string().check(z.minLength(16)),
  verifier: z.string().check(z.minLength(43)),
  returnTo: z.string().check(z.startsWith('/agent')),
  /** Started from a framed page: the callback hands the session back to that frame (see handoff below). */
  handoff: z.optional(z.boolean()),
  exp: z.number(),
});
export type OidcTransaction = z.infer<typeof transactionSchema>;

const TRANSACTION_SECONDS = 600;

export async function saveTransaction(
  c: Context,
  config: Config,
  tx: Omit<OidcTransaction, 'purpose' | 'exp'>,
  nowMs: number,
) {
  const exp = Math.floor(nowMs / 1000) + TRANSACTION_SECONDS;
  const jwt = await sign({ purpose: 'agent-oidc', ...tx, exp }, config.SESSION_SECRET, 'HS256');
  // Lax: the IdP brings the browser back with a top-level GET, which Lax cookies accompany.
  setCookie(c, OIDC_COOKIE, jwt, {
    ...cookieOptions(config, '/agent/callback'),
    sameSite: 'Lax',
    maxAge: TRANSACTION_SECONDS,
  });
}

/** Reads and clears the transaction: a callback can be used once. */
export async function takeTransaction(c: Context, config: Config): Promise<OidcTransaction | null> {
  const raw = getCookie(c, OIDC_COOKIE);
  deleteCookie(c, OIDC_COOKIE, { ...cookieOptions(config, '/agent/callback'), sameSite: 'Lax' });
  if (!raw || raw.length > 4096) return null;
  try {
    const parsed = transactionSchema.safeParse(await verify(raw, config.SESSION_SECRET, 'HS256'));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

// --- handing a session to a framed page ---
// A console framed by another site (Flex) may not see the cookie a top-level sign-in set, because the
// browser partitions or blocks third-party cookies. The sign-in window, which is our own origin, passes a
// one-minute, single-use token to the frame that opened it (postMessage to our own origin only); the frame
// posts it back and gets its own partitioned session.

const handoffSchema = z.object({
  purpose: z.literal('agent-handoff'),
  jti: z.string().check(z.minLength(16)),
  session: z.object({
    sub: z.string(),
    name: z.string(),
    email: z.nullable(z.string()),
    method: z.enum(['token', 'oidc']),
    admin: z.boolean(),
    roles: z._default(z.array(z.string().check(z.maxLength(200))).check(z.maxLength(100)), []),
  }),
  exp: z.number(),
});

const HANDOFF_SECONDS = 60;

export async function signHandoff(config: Config, session: NewSession, nowMs: number) {
  const exp = Math.floor(nowMs / 1000) + HANDOFF_SECONDS;
  const { sub, name, email, method, admin, roles = [] } = session;
  const payload = {
    purpose: 'agent-handoff',
    jti: randomToken(),
    session: { sub, name, email, method, admin, roles },
    exp,
  };
  return sign(payload, config.SESSION_SECRET, 'HS256');
}

/**
 * The session a handoff token carries and its id (for single use), or null. Single use is claimed by the
 * signed `jti`, not by the token's text, so no respelling of the token's base64url passes for a new one.
 */
export async function verifyHandoff(config: Config, token: string) {
  if (token.length > 4096) return null;
  try {
    const parsed = handoffSchema.safeParse(await verify(token, config.SESSION_SECRET, 'HS256'));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Only paths inside the console may be returned to after sign-in (no open redirect). */
export function safeReturnTo(value: string | undefined | null): string {
  if (!value?.startsWith('/agent') || value.startsWith('//') || value.includes('\\')) return '/agent';
  if (value.startsWith('/agent/login') || value.startsWith('/agent/callback')) return '/agent';
  return value.length > 500 ? '/agent' : value;
}
