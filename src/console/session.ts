import type { Context } from 'hono';
import { deleteCookie, generateCookie, getCookie, setCookie } from 'hono/cookie';
import { sign, verify } from 'hono/jwt';
import type { CookieOptions } from 'hono/utils/cookie';
import * as z from 'zod/mini';
import type { Config } from '../config.js';
import type { AgentIdentity } from '../push/index.js';
import { constantTimeEqual } from '../shared/constant-time.js';

/**
 * Agent sessions: an HS256 JWT (SESSION_SECRET) in an HttpOnly cookie. Stateless, so the same session
 * works on Node and on every Worker isolate. The session carries its own CSRF token for forms and
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
  /** Random id of this sign-in: sign-out closes this session's sockets only. */
  sid: z.optional(z.string().check(z.maxLength(100))),
  iat: z.number(),
  exp: z.number(),
});
export type AgentSession = z.infer<typeof sessionSchema>;

export type NewSession = Pick<AgentSession, 'sub' | 'name' | 'email' | 'method' | 'admin'>;

export function agentIdentity(session: AgentSession): AgentIdentity {
  const agent: AgentIdentity = { id: session.sub, name: session.name, expiresAt: session.exp * 1000 };
  if (session.sid !== undefined) agent.session = session.sid;
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
  config: Config,
  input: NewSession,
  nowMs: number,
  options: { partitioned?: boolean } = {},
) {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + config.AGENT_SESSION_HOURS * 3600;
  const session: AgentSession = {
    purpose: 'agent-session',
    ...input,
    csrf: randomToken(),
    sid: randomToken(12),
    iat,
    exp,
  };
  const jwt = await sign(session, config.SESSION_SECRET, 'HS256');
  setCookie(c, SESSION_COOKIE, jwt, {
    ...cookieOptions(config, '/', options.partitioned),
    maxAge: exp - iat,
  });
  return session;
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

/** The signed-in agent, or null for a missing, forged, expired or malformed cookie. */
export async function readSession(c: Context, config: Config): Promise<AgentSession | null> {
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
  }),
  exp: z.number(),
});

const HANDOFF_SECONDS = 60;

export async function signHandoff(config: Config, session: NewSession, nowMs: number) {
  const exp = Math.floor(nowMs / 1000) + HANDOFF_SECONDS;
  const { sub, name, email, method, admin } = session;
  const payload = {
    purpose: 'agent-handoff',
    jti: randomToken(),
    session: { sub, name, email, method, admin },
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
