import type { Context, MiddlewareHandler } from 'hono';
import { audit } from '../audit/index.js';
import { readSession } from '../console/index.js';
import type { AppDeps, AppEnv } from '../deps.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import { unauthorized } from '../shared/errors.js';

/**
 * Who may call /api/*. Today: the `Authorization: Bearer $ADMIN_TOKEN` of machines (softphone and CRM
 * plugins). The seam for more: add an authenticator (e.g. a signed-in agent's session cookie) to
 * `authenticatorsFor`; the first one that recognises the request wins, and routes read the principal
 * with `apiPrincipal(c)` (for audit entries).
 */

export interface ApiPrincipal {
  kind: 'admin-token' | 'agent';
  /** Stable id for audit entries. */
  id: string;
  name: string | null;
  /** May administer (the ADMIN_TOKEN, or an agent holding AGENT_ADMIN_ROLE). */
  admin: boolean;
}

/** Recognises a request, or returns undefined to let the next authenticator try. */
export type ApiAuthenticator = (c: Context) => Promise<ApiPrincipal | undefined>;

export type ApiEnv = { Variables: AppEnv['Variables'] & { apiPrincipal: ApiPrincipal } };

export const ADMIN_TOKEN_PRINCIPAL: ApiPrincipal = {
  kind: 'admin-token',
  id: 'api:admin-token',
  name: 'ADMIN_TOKEN bearer',
  admin: true,
};

const BEARER = /^Bearer +(\S+) *$/i;

/** `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time (both sides hashed first). */
export function adminBearer(deps: Pick<AppDeps, 'config'>): ApiAuthenticator {
  return async function adminTokenBearer(c) {
    const match = BEARER.exec(c.req.header('authorization') ?? '');
    if (!match?.[1]) return undefined;
    return constantTimeEqual(deps.config.ADMIN_TOKEN, match[1]) ? ADMIN_TOKEN_PRINCIPAL : undefined;
  };
}

/**
 * A signed-in agent's session cookie (the console's manual lookup). Browsers only: a request another site
 * makes with the agent's cookies (Sec-Fetch-Site cross-site/same-site) is not recognised.
 */
export function agentSessionAuth(deps: AppDeps): ApiAuthenticator {
  return async function agentSessionCookie(c) {
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return undefined;
    const session = await readSession(c, deps);
    return session ? { kind: 'agent', id: session.sub, name: session.name, admin: session.admin } : undefined;
  };
}

function authenticatorsFor(deps: AppDeps): ApiAuthenticator[] {
  return [adminBearer(deps), agentSessionAuth(deps)];
}

/**
 * Audits what /api/* showed and to whom: a lookup's number, an interaction's id. Read from the answer
 * after the route ran, so only what was actually served is recorded.
 */
export function auditApiAccess(deps: AppDeps): MiddlewareHandler<ApiEnv> {
  return async function auditApiRead(c, next) {
    await next();
    if (c.req.method !== 'GET' || !c.res.ok) return;
    const path = c.req.path;
    const action = path.endsWith('/lookup') ? 'lookup' : path.includes('/interactions/') ? 'pop_view' : null;
    if (!action) return;
    const body = (await c.res
      .clone()
      .json()
      .catch(() => null)) as { e164?: unknown; id?: unknown; matches?: unknown } | null;
    const target = action === 'lookup' ? body?.e164 : body?.id;
    const principal = c.get('apiPrincipal');
    await audit(
      deps,
      c,
      { id: principal.id, name: principal.name },
      action,
      typeof target === 'string' ? target : null,
      {
        via: 'api',
        matches: Array.isArray(body?.matches) ? body.matches.length : 0,
      },
    );
  };
}

/** 401 in the one error shape (with a Bearer challenge) unless an authenticator recognises the request. */
export function apiAuth(deps: AppDeps, extra: ApiAuthenticator[] = []): MiddlewareHandler<ApiEnv> {
  const authenticators = [...authenticatorsFor(deps), ...extra];
  const auditRead = auditApiAccess(deps);
  return async function requireApiPrincipal(c, next) {
    for (const authenticate of authenticators) {
      const principal = await authenticate(c);
      if (principal) {
        c.set('apiPrincipal', principal);
        return auditRead(c, next);
      }
    }
    c.header('WWW-Authenticate', 'Bearer realm="callerpop"');
    throw unauthorized('Send Authorization: Bearer <ADMIN_TOKEN>');
  };
}

export function apiPrincipal(c: Context): ApiPrincipal {
  const principal = (c as unknown as Context<ApiEnv>).get('apiPrincipal');
  if (!principal) throw new Error('apiAuth middleware is not in front of this route');
  return principal;
}
