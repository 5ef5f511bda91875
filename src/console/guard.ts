import type { Context, MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import type { Config } from '../config.js';
import type { AppDeps, AppEnv } from '../deps.js';
import { unauthorized } from '../shared/errors.js';
import { type AgentSession, readSession } from './session.js';

/** The agent routes' context: the app's, plus the signed-in agent. */
export type AgentEnv = { Variables: AppEnv['Variables'] & { session: AgentSession } };

/** Our own origins: the configured public URL, and the one the request came in on (a local port). */
export function isOwnOrigin(origin: string | undefined, c: Context, config: Config): boolean {
  if (!origin) return false;
  return origin === new URL(config.PUBLIC_BASE_URL).origin || origin === new URL(c.req.url).origin;
}

/** Form posts must come from our own pages (Origin header, or Sec-Fetch-Site: same-origin). */
export function agentCsrf(config: Config): MiddlewareHandler {
  return csrf({ origin: (origin, c) => isOwnOrigin(origin, c, config) });
}

/**
 * Requires a signed-in agent. Pages send the browser to sign in (keeping where it was going);
 * JSON and the socket answer 401.
 */
export function requireAgent(deps: AppDeps, kind: 'page' | 'api'): MiddlewareHandler<AgentEnv> {
  return async function requireAgentSession(c, next) {
    const session = await readSession(c, deps);
    if (!session) {
      if (kind === 'api') throw unauthorized('Sign in to the agent console first');
      const url = new URL(c.req.url);
      return c.redirect(`/agent/login?returnTo=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set('session', session);
    await next();
  };
}

/**
 * Agent pages may be framed only by the origins in AGENT_FRAME_ANCESTORS (Flex, Salesforce…).
 * Scripts, styles and sockets come from this origin alone.
 */
export function agentSecurityHeaders(config: Config): MiddlewareHandler {
  const ancestors = ["'self'", ...config.AGENT_FRAME_ANCESTORS].join(' ');
  return async function setAgentSecurityHeaders(c, next) {
    await next();
    const host = new URL(c.req.url).host;
    const wsOrigins = `ws://${host} wss://${host}`;
    c.header(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${wsOrigins}; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`,
    );
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cache-Control', c.res.headers.get('Cache-Control') ?? 'no-store');
  };
}
