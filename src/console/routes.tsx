import { Hono } from 'hono';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { audit, queryAudit } from '../audit/index.js';
import { AUDIT_ACTIONS } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { findInteraction, listInteractions, toInteractionView } from '../inbound/index.js';
import { auditedCursor, parseCursor, replayChangesSince } from '../push/index.js';
import { ApiError, badRequest, forbidden } from '../shared/errors.js';
import { type AgentEnv, agentSecurityHeaders, isOwnOrigin, requireAgent } from './guard.js';
import { type ClientState, ConsolePage, PopPage } from './pages.js';
import { agentIdentity } from './session.js';
import { agentAuthRoutes } from './sign-in-routes.js';
import { STYLES } from './styles.js';

/** Newest interactions the console opens with; older ones are in the API. */
const CONSOLE_HISTORY = 30;
const MAX_ID = 64;

/** `https://manage.auth0.com/dashboard/{region}/{tenant}/users/` or null. */
function dashboardBase(tenant: string | undefined): string | null {
  if (!tenant) return null;
  const path = tenant
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');
  return `https://manage.auth0.com/dashboard/${path}/users/`;
}

// Audit query errors are shown to the agent: English messages, as classic zod has by default.
z.config(en());

const queryInt = (min: number) => z.coerce.number().check(z.int(), z.gte(min));

const auditQuerySchema = z.object({
  agent: z.optional(z.string().check(z.maxLength(300))),
  action: z.optional(z.enum(AUDIT_ACTIONS)),
  target: z.optional(z.string().check(z.maxLength(300))),
  since: z.optional(queryInt(0)),
  before: z.optional(queryInt(1)),
  limit: z._default(queryInt(1).check(z.lte(500)), 100),
});

/**
 * The agent console: `/agent` (live feed + manual lookup), `/agent/pop/:id` (one interaction, for
 * iframes), sign-in, the push socket, and a small JSON API (`/agent/api/*`).
 */
export function agentRoutes(deps: AppDeps) {
  const { config, db } = deps;
  const app = new Hono<AgentEnv>();
  const assetHeaders = { 'Cache-Control': 'public, max-age=300' };

  // Bundled from src/console/client/ by scripts/build-assets.mjs.
  for (const name of ['console.js', 'frame.js'])
    app.get(`/assets/${name}`, async (c) => {
      const script = await deps.assets.text(`agent/${name}`);
      if (script === null)
        throw new ApiError(503, 'unavailable', 'The console script was not built (scripts/build-assets.mjs)');
      return c.body(script, 200, { ...assetHeaders, 'Content-Type': 'text/javascript; charset=utf-8' });
    });
  app.get('/assets/console.css', (c) =>
    c.body(STYLES, 200, { ...assetHeaders, 'Content-Type': 'text/css; charset=utf-8' }),
  );

  app.use(agentSecurityHeaders(config));
  app.route('/', agentAuthRoutes(deps));

  // The socket: an authenticated agent from one of our own pages (cross-site WebSocket hijacking
  // is stopped by the Origin check, since browsers send cookies with cross-site upgrades).
  app.get('/socket', requireAgent(deps, 'api'), (c) => {
    if (!isOwnOrigin(c.req.header('origin'), c, config)) throw forbidden('WebSocket from another origin');
    const agent = agentIdentity(c.get('session'), deps.now());
    // Each replay page a resume sends is a bulk read of calls and their matched accounts: audited.
    return deps.hub.connect(c, agent, (page) =>
      audit(deps, c, agent, 'console_view', null, { via: 'socket_resume', ...page }),
    );
  });

  const base = dashboardBase(config.AUTH0_DASHBOARD_TENANT);

  app.get('/', requireAgent(deps, 'page'), async (c) => {
    const session = c.get('session');
    const cursor = deps.now();
    const records = await listInteractions(db, { limit: CONSOLE_HISTORY });
    await audit(deps, c, agentIdentity(session), 'console_view', null, { shown: records.length });
    const state: ClientState = {
      mode: 'console',
      cursor,
      interactions: records.map((r) => toInteractionView(r, config)),
      dashboardBase: base,
    };
    return c.html(
      <ConsolePage
        agent={{ name: session.name, csrf: session.csrf }}
        state={state}
        defaultRegion={config.DEFAULT_REGION}
      />,
    );
  });

  app.get('/pop/:id', requireAgent(deps, 'page'), async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    if (id.length > MAX_ID || !/^[\w-]+$/.test(id)) throw badRequest('Not an interaction id');
    const cursor = deps.now();
    const record = await findInteraction(db, id);
    await audit(deps, c, agentIdentity(session), 'pop_view', record?.id ?? id, {
      found: record !== undefined,
      matches: record?.matches.length ?? 0,
    });
    const state: ClientState = {
      mode: 'pop',
      popId: id,
      cursor,
      interactions: record ? [toInteractionView(record, config)] : [],
      dashboardBase: base,
    };
    return c.html(
      <PopPage
        agent={{ name: session.name, csrf: session.csrf }}
        state={state}
        found={record !== undefined}
      />,
    );
  });

  // --- JSON for the console and for integrations holding an agent session ---
  app.use('/api/*', requireAgent(deps, 'api'));

  app.get('/api/me', (c) => {
    const s = c.get('session');
    return c.json({
      id: s.sub,
      name: s.name,
      email: s.email,
      method: s.method,
      admin: s.admin,
      csrf: s.csrf,
    });
  });

  /** Catch-up over HTTP, the same pages as the socket's `resume`. */
  app.get('/api/since', async (c) => {
    const since = parseCursor(c.req.query('cursor') ?? '0');
    if (!since) throw badRequest('cursor must be a time in milliseconds or the cursor of a previous page');
    const page = await replayChangesSince(db, config, since);
    await audit(deps, c, agentIdentity(c.get('session')), 'console_view', null, {
      via: 'api_since',
      since: auditedCursor(since),
      count: page.messages.length,
      more: page.more,
    });
    return c.json(page);
  });

  app.get('/api/audit', async (c) => {
    const session = c.get('session');
    if (!session.admin) throw forbidden('Reading the audit log needs the admin role');
    const parsed = auditQuerySchema.safeParse(c.req.query());
    if (!parsed.success)
      throw badRequest(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const q = parsed.data;
    const entries = await queryAudit(db, {
      agentId: q.agent,
      action: q.action,
      target: q.target,
      since: q.since,
      beforeId: q.before,
      limit: q.limit,
    });
    await audit(deps, c, agentIdentity(session), 'audit_read', null, { returned: entries.length });
    const last = entries.at(-1);
    return c.json({ entries, next: entries.length === q.limit && last ? last.id : null });
  });

  return app;
}
