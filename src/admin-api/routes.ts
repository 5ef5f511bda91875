import { Hono } from 'hono';
import { audit } from '../audit/index.js';
import { listActiveAgentSessions, revokeSession } from '../console/index.js';
import type { AppDeps } from '../deps.js';
import { findInteraction, toInteractionView } from '../inbound/index.js';
import { matchNumber } from '../phone-index/index.js';
import { ApiError, badRequest, forbidden, notFound } from '../shared/errors.js';
import { formatPhoneForHumans } from '../shared/phone/format.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import { type ApiEnv, apiAuth } from './auth.js';

/**
 * The lookup API for softphones, CRM plugins and scripts: who owns a number, and one interaction's view.
 * Behind apiAuth; a database past the lookup deadline answers 503 rather than hanging the caller.
 */

const REGION = /^[A-Za-z]{2}$/;
const MAX_SID = 64;

const unavailable = () =>
  new ApiError(503, 'unavailable', 'The index did not answer in time; try again shortly.');

async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable()), ms);
  });
  try {
    return await Promise.race([
      work.catch((err: unknown) => {
        if (err instanceof ApiError) throw err;
        throw unavailable();
      }),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function apiRoutes(deps: AppDeps) {
  const app = new Hono<ApiEnv>();
  app.use(apiAuth(deps));

  app.get('/lookup', async (c) => {
    const phone = c.req.query('phone');
    if (phone === undefined || phone.trim() === '') throw badRequest('phone is required', 'phone_required');
    const region = c.req.query('region');
    if (region !== undefined && !REGION.test(region))
      throw badRequest('region must be a two-letter region such as US or GB', 'invalid_region');
    const normalized = normalizePhone(phone, { region: region?.toUpperCase() ?? deps.config.DEFAULT_REGION });
    if (!normalized.ok) {
      return c.json({
        e164: null,
        reason: normalized.reason,
        message: normalized.message,
        matches: [],
        sharedLine: false,
        policyWarning: false,
      });
    }
    const result = await withinDeadline(
      matchNumber(deps.db, normalized.e164),
      deps.config.LOOKUP_DEADLINE_MS,
    );
    return c.json({
      e164: result.e164,
      display: formatPhoneForHumans(result.e164),
      country: normalized.country ?? null,
      matches: result.matches,
      sharedLine: result.sharedLine,
      policyWarning: result.policyWarning,
    });
  });

  app.get('/interactions/:sid', async (c) => {
    const sid = c.req.param('sid');
    if (sid.length > MAX_SID) throw notFound('No such interaction');
    const record = await withinDeadline(findInteraction(deps.db, sid), deps.config.LOOKUP_DEADLINE_MS);
    if (!record) throw notFound('No such interaction');
    return c.json(toInteractionView(record, deps.config));
  });

  // --- agent sessions: who is signed in, and ending a session (an administrator's) ---

  app.get('/agent-sessions', async (c) => {
    const principal = c.get('apiPrincipal');
    if (!principal.admin) throw forbidden('Listing agent sessions needs the admin role');
    const sub = c.req.query('agent');
    if (sub !== undefined && (sub === '' || sub.length > 300)) throw badRequest('agent must be an agent id');
    const rows = await listActiveAgentSessions(deps.db, { now: deps.now(), sub, limit: MAX_SESSIONS });
    await audit(deps, c, principal, 'agent_sessions_read', null, { returned: rows.length });
    return c.json({
      sessions: rows.map((r) => ({
        id: r.id,
        agent: r.sub,
        name: r.name,
        email: r.email,
        method: r.method,
        admin: r.admin,
        createdAt: r.createdAt,
        lastSeenAt: r.lastSeenAt,
        expiresAt: r.expiresAt,
        rolesCheckedAt: r.rolesCheckedAt,
      })),
    });
  });

  app.delete('/agent-sessions/:id', async (c) => {
    const principal = c.get('apiPrincipal');
    if (!principal.admin) throw forbidden('Ending agent sessions needs the admin role');
    const id = c.req.param('id');
    if (id.length > 100 || !/^[\w-]+$/.test(id)) throw notFound('No such session');
    const revoked = await revokeSession(deps, id, principal.id);
    if (!revoked) throw notFound('No such session, or it has already ended');
    await audit(deps, c, principal, 'agent_session_revoke', id, {});
    return c.json({ revoked: true });
  });

  return app;
}

/** One page of sessions: a call center's agents, with room. */
const MAX_SESSIONS = 500;
