import { createApp } from './app.js';
import { ConfigError } from './config.js';
import { DurableObjectHub } from './hub/durable-object.js';
import { createConsoleLogger } from './logger.js';
import { runRetention } from './services/retention.js';
import { buildWorkerDeps, loadWorkerConfig, type WorkerDeps } from './worker/deps.js';

export { AgentHubObject } from './hub/durable-object.js';

/**
 * Production entry on Cloudflare Workers, and only the composition root: the same app as on Node, with
 * libSQL over HTTP (Turso), the agent hub in a Durable Object, retention on a Cron Trigger.
 * Dependencies are built once per isolate (a libSQL HTTP client is cheap to keep, costly to rebuild).
 */

const logger = createConsoleLogger({ service: 'callerpop', runtime: 'workers' });

let built: { env: Env; deps: WorkerDeps; app: ReturnType<typeof createApp> } | undefined;

function compose(env: Env) {
  if (built?.env === env) return built;
  const config = loadWorkerConfig(env);
  const hub = new DurableObjectHub(env.AGENT_HUB, logger);
  const deps = buildWorkerDeps(config, { hub, logger });
  // A previous client is left to the garbage collector: requests still in flight may be using it.
  built = { env, deps, app: createApp(deps) };
  return built;
}

/** A missing or malformed secret: name it (never its value) so `wrangler tail` and the caller both see why. */
function misconfigured(err: ConfigError): Response {
  logger.error('callerpop is not configured', { problems: err.problems });
  const message = `callerpop is not configured: ${err.problems.join('; ')}. Set secrets with \`wrangler secret put NAME\`.`;
  return Response.json(
    { error: { code: 'misconfigured', message, requestId: crypto.randomUUID() } },
    { status: 500 },
  );
}

export default {
  fetch(request, env, ctx) {
    let app: ReturnType<typeof createApp>;
    try {
      app = compose(env).app;
    } catch (err) {
      if (err instanceof ConfigError) return misconfigured(err);
      throw err;
    }
    return app.fetch(request, env, ctx);
  },

  async scheduled(_controller, env, ctx) {
    let deps: WorkerDeps;
    try {
      deps = compose(env).deps;
    } catch (err) {
      if (err instanceof ConfigError)
        logger.error('retention skipped: not configured', { problems: err.problems });
      throw err;
    }
    ctx.waitUntil(runRetention(deps));
  },
} satisfies ExportedHandler<Env>;
