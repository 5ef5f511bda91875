import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { apiRoutes } from './admin-api/index.js';
import { auth0Routes, logCatchUpRoutes } from './auth0-feed/index.js';
import { agentRoutes } from './console/index.js';
import type { AppDeps, AppEnv } from './deps.js';
import { healthRoutes } from './health/index.js';
import { twilioRoutes } from './inbound/index.js';
import { errorBody, handleError } from './shared/errors.js';
import { verifyRoutes } from './verify-phone/index.js';

/**
 * The whole HTTP surface, built from its dependencies. Both entries (Node, Workers) call this;
 * it reads no environment and imports nothing runtime-specific.
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(async function attachLogger(c, next) {
    c.set('logger', deps.logger);
    await next();
  });
  app.onError(handleError);
  app.notFound((c) => c.json(errorBody(c, 'not_found', `No route for ${c.req.method} ${c.req.path}`), 404));

  app.route('/', healthRoutes(deps));
  app.route('/twilio', twilioRoutes(deps));
  app.route('/api', apiRoutes(deps));
  app.route('/api/auth0', logCatchUpRoutes(deps));
  app.route('/auth0', auth0Routes(deps));
  app.route('/agent', agentRoutes(deps));
  app.route('/verify', verifyRoutes(deps));
  return app;
}

export type App = ReturnType<typeof createApp>;
