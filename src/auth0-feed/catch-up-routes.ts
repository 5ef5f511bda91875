import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type ApiEnv, apiAuth, apiPrincipal } from '../admin-api/index.js';
import type { AppDeps } from '../deps.js';
import { ApiError, badRequest } from '../shared/errors.js';
import { type LogCatchUp, logCatchUpStatus } from './log-catch-up.js';

/**
 * The Auth0 log catch-up on demand, behind the /api bearer auth:
 *  GET  /api/auth0/log-catch-up   the cursor (last applied log_id) and what the last run did
 *  POST /api/auth0/log-catch-up   run it now; optional JSON `{ "from": "<log_id>", "pages": n }` to replay
 *                                 everything after a log_id, or to read more pages than a scheduled run
 * The entries build the catch-up (one per process, shared with the Node timer or the Worker's cron) when the
 * Management API is configured.
 */

export type LogCatchUpDeps = AppDeps & { logCatchUp?: LogCatchUp };

const MAX_BODY = 4 * 1024;
const LOG_ID = /^[0-9A-Za-z_-]{1,128}$/;
const MAX_PAGES = 1000;

export function logCatchUpRoutes(deps: LogCatchUpDeps) {
  const app = new Hono<ApiEnv>();
  app.use(apiAuth(deps));

  app.get('/log-catch-up', async (c) =>
    c.json({ configured: deps.logCatchUp !== undefined, ...(await logCatchUpStatus(deps.db)) }),
  );

  app.post(
    '/log-catch-up',
    bodyLimit({
      maxSize: MAX_BODY,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `Body larger than ${MAX_BODY} bytes`);
      },
    }),
    async (c) => {
      const options = parseOptions(await c.req.text());
      if (!deps.logCatchUp)
        throw new ApiError(
          503,
          'unavailable',
          'The Auth0 Management API is not configured: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (an application granted read:logs).',
        );
      const result = await deps.logCatchUp.run({ trigger: `api:${apiPrincipal(c).id}`, ...options });
      if (result === 'busy')
        throw new ApiError(
          409,
          'in_progress',
          'A log catch-up is running; GET shows what it did once it ends.',
        );
      if (result.status === 'failed')
        throw new ApiError(503, 'unavailable', `The log catch-up failed: ${result.error ?? 'unknown error'}`);
      return c.json(result);
    },
  );

  return app;
}

function parseOptions(text: string): { from?: string; maxPages?: number } {
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest('Body is not valid JSON', 'malformed_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('Body must be a JSON object');
  const { from, pages } = body as { from?: unknown; pages?: unknown };
  if (from !== undefined && (typeof from !== 'string' || !LOG_ID.test(from)))
    throw badRequest('from must be a log_id (letters and digits)', 'invalid_log_id');
  if (
    pages !== undefined &&
    (!Number.isInteger(pages) || (pages as number) < 1 || (pages as number) > MAX_PAGES)
  )
    throw badRequest(`pages must be a whole number from 1 to ${MAX_PAGES}`, 'invalid_pages');
  return {
    ...(from !== undefined ? { from } : {}),
    ...(pages !== undefined ? { maxPages: pages as number } : {}),
  };
}
