import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppDeps, AppEnv } from './deps.js';
import { errorBody, handleError } from './errors.js';
import { agentRoutes } from './routes/agent.js';
import { apiRoutes } from './routes/api.js';
import { auth0Routes } from './routes/auth0.js';
import { healthRoutes } from './routes/health.js';
import { logCatchUpRoutes } from './routes/log-catch-up.js';
import { twilioRoutes } from './routes/twilio.js';
import { verifyRoutes } from './routes/verify.js';

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
