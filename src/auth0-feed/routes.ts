import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { apiAuth, apiPrincipal } from '../admin-api/index.js';
import { audit } from '../audit/index.js';
import type { AppDeps, AppEnv } from '../deps.js';
import { listOtpDeliveries } from '../otp/index.js';
import { ApiError, badRequest, notFound, unauthorized } from '../shared/errors.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import { AUTH0_EVENT_TYPES, auth0Event, describeIssues } from './events.js';
import { handleAuth0Event } from './handle-event.js';
import { countOpenHeldLogEvents, listHeldLogEvents, resolveHeldLogEvent } from './held-log-queries.js';
import { replayHeldLogs } from './held-logs.js';
import { ingestLogBody, isLogStreamAuthorized } from './log-stream.js';
import { findPolicyWarnings, listEnrollmentDecisions } from './queries.js';
import { verifyWebhook, WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature.js';

/**
 * The Auth0 feed.
 *  POST /auth0/events      Action callbacks, Standard Webhooks signed with AUTH0_WEBHOOK_SECRET.
 *  POST /auth0/log-stream  Log Streams custom webhook, `Authorization` equal to AUTH0_LOG_STREAM_TOKEN. Any
 *                          body is answered 2xx once authorized: what cannot be applied is held (below).
 * Both check the caller before reading the body; nothing is written for a rejected request.
 *  GET  /auth0/held-logs, POST /auth0/held-logs/replay, DELETE /auth0/held-logs/:id
 *                           Log items kept aside (for operators, like /api): list, replay, dismiss.
 *  GET  /auth0/activity     What the feed knows about one number (for agents and admins, like /api): policy
 *                           warnings, enrollment decisions, OTP deliveries and refusals. Audited as a lookup.
 */

/** Action payloads are a user and a message: a few kB. */
export const EVENTS_MAX_BODY = 64 * 1024;

/** Newest decisions and deliveries shown per number. */
const ACTIVITY_LIMIT = 50;
/** Held items listed or replayed per request. */
const HELD_PAGE = 100;

const tooLarge = (max: number) => () => {
  throw new ApiError(413, 'payload_too_large', `Body larger than ${max} bytes`);
};

export function auth0Routes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const logDeps = (logger: AppDeps['logger']) => ({
    db: deps.db,
    logger,
    now: deps.now,
    newId: deps.newId,
    region: deps.config.DEFAULT_REGION,
  });

  app.post(
    '/events',
    bodyLimit({ maxSize: EVENTS_MAX_BODY, onError: tooLarge(EVENTS_MAX_BODY) }),
    async (c) => {
      const body = await c.req.text();
      const verdict = await verifyWebhook({
        secrets: deps.config.AUTH0_WEBHOOK_SECRET,
        headers: {
          id: c.req.header('webhook-id'),
          timestamp: c.req.header('webhook-timestamp'),
          signature: c.req.header('webhook-signature'),
        },
        body,
        nowMs: deps.now(),
      });
      if (!verdict.ok) {
        c.get('logger').warn('auth0 event rejected', { reason: verdict.reason });
        throw unauthorized('Invalid webhook signature');
      }

      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw badRequest('Body is not valid JSON', 'malformed_json');
      }
      const type = json && typeof json === 'object' ? (json as { type?: unknown }).type : undefined;
      if (typeof type !== 'string' || !AUTH0_EVENT_TYPES.includes(type as never)) {
        throw badRequest(
          `Unknown event type ${JSON.stringify(type ?? null)}; expected one of ${AUTH0_EVENT_TYPES.join(', ')}`,
          'unknown_event_type',
        );
      }
      const parsed = auth0Event.safeParse(json);
      if (!parsed.success) throw badRequest(describeIssues(parsed.error), 'invalid_event');
      if (
        Math.abs(parsed.data.occurred_at - verdict.timestampSeconds * 1000) >
        WEBHOOK_TOLERANCE_SECONDS * 1000
      ) {
        throw badRequest('occurred_at must be within 5 minutes of webhook-timestamp', 'invalid_event');
      }

      const { answer, replayed } = await handleAuth0Event(deps, verdict.id, parsed.data);
      c.get('logger').info('auth0 event', { type, webhookId: verdict.id, replayed });
      return c.json(answer);
    },
  );

  app.post('/log-stream', async (c) => {
    if (!isLogStreamAuthorized(c.req.header('authorization'), deps.config.AUTH0_LOG_STREAM_TOKEN)) {
      throw unauthorized('Invalid log stream token');
    }
    const summary = await ingestLogBody(logDeps(c.get('logger')), c.req.raw.body);
    return c.json(summary);
  });

  app.get('/held-logs', apiAuth(deps), async (c) => {
    const all = c.req.query('status') === 'all';
    const [items, open] = await Promise.all([
      listHeldLogEvents(deps.db, { limit: HELD_PAGE, includeResolved: all }),
      countOpenHeldLogEvents(deps.db),
    ]);
    return c.json({ open, items });
  });

  app.post('/held-logs/replay', apiAuth(deps), async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { ids?: unknown };
    const ids = body.ids;
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string')))
      throw badRequest('ids must be an array of held item ids', 'invalid_ids');
    const results = await replayHeldLogs(logDeps(c.get('logger')), { ids, limit: HELD_PAGE });
    return c.json({ results, open: await countOpenHeldLogEvents(deps.db) });
  });

  app.delete('/held-logs/:id', apiAuth(deps), async (c) => {
    const principal = apiPrincipal(c);
    const done = await resolveHeldLogEvent(
      deps.db,
      c.req.param('id'),
      `dismissed by ${principal.id}`,
      deps.now(),
    );
    if (!done) throw notFound('No open held item with that id');
    return c.body(null, 204);
  });

  app.get('/activity', apiAuth(deps), async (c) => {
    const phone = c.req.query('phone');
    if (!phone?.trim()) throw badRequest('phone is required', 'phone_required');
    const region = c.req.query('region')?.toUpperCase() ?? deps.config.DEFAULT_REGION;
    const normalized = normalizePhone(phone, { region });
    if (!normalized.ok) throw badRequest(normalized.message, 'invalid_phone');
    const { e164 } = normalized;
    const [policyWarnings, decisions, deliveries] = await Promise.all([
      findPolicyWarnings(deps.db, e164),
      listEnrollmentDecisions(deps.db, e164, ACTIVITY_LIMIT),
      listOtpDeliveries(deps.db, e164, { limit: ACTIVITY_LIMIT }),
    ]);
    const principal = apiPrincipal(c);
    await audit(deps, c, { id: principal.id, name: principal.name }, 'lookup', e164, {
      via: 'auth0-activity',
    });
    return c.json({ e164, policyWarning: policyWarnings.length > 0, policyWarnings, decisions, deliveries });
  });

  return app;
}
