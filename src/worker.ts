import { createApp } from './app.js';
import { ConfigError } from './config.js';
import { DurableObjectHub, AgentHubObject as HubObject } from './push/durable-object.js';
import { runRetention } from './retention/index.js';
import { createConsoleLogger } from './shared/logger.js';
import { phoneMetadataLoaded } from './shared/phone/metadata-runtime.js';
import { LOG_CATCH_UP_CRON, RETENTION_CRON } from './worker/crons.js';
import { buildWorkerDeps, loadWorkerConfig, type WorkerDeps } from './worker/deps.js';
import { loadPhoneMetadata } from './worker/phone-metadata.js';

/**
 * Production entry on Cloudflare Workers, and only the composition root: the same app as on Node, with
 * libSQL over HTTP (Turso), the agent hub in a Durable Object, retention and the Auth0 log catch-up on Cron
 * Triggers.
 * Dependencies are built once per isolate (a libSQL HTTP client is cheap to keep, costly to rebuild), and
 * libphonenumber-js's metadata is loaded once per isolate from the static assets before the first request
 * reaches the app (./worker/phone-metadata.ts): it is not in the bundle.
 */

const logger = createConsoleLogger({ service: 'callerpop', runtime: 'workers' });

let built: { env: Env; deps: WorkerDeps; app: ReturnType<typeof createApp> } | undefined;

function compose(env: Env) {
  if (built?.env === env) return built;
  const config = loadWorkerConfig(env);
  const hub = new DurableObjectHub(env.AGENT_HUB, logger);
  const deps = buildWorkerDeps(config, { hub, assets: env.ASSETS, logger });
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

/** The metadata could not be loaded: nothing about a number can be decided, so ask the caller to retry. */
function phoneMetadataUnavailable(err: unknown): Response {
  logger.error('phone metadata could not be loaded; answering 503 until it can', {
    error: err instanceof Error ? err.message : String(err),
  });
  return Response.json(
    {
      error: {
        code: 'unavailable',
        message: 'callerpop is starting: phone number metadata could not be loaded. Retry shortly.',
        requestId: crypto.randomUUID(),
      },
    },
    { status: 503, headers: { 'retry-after': '1' } },
  );
}

export default {
  async fetch(request, env, ctx) {
    let app: ReturnType<typeof createApp>;
    try {
      app = compose(env).app;
    } catch (err) {
      if (err instanceof ConfigError) return misconfigured(err);
      throw err;
    }
    if (!phoneMetadataLoaded()) {
      const loading = loadPhoneMetadata(env.ASSETS);
      // The load is shared by every request waiting on it: it must outlive this one if its client hangs up.
      ctx.waitUntil(loading.catch(() => undefined));
      try {
        await loading;
      } catch (err) {
        return phoneMetadataUnavailable(err);
      }
    }
    return app.fetch(request, env, ctx);
  },

  async scheduled(controller, env, ctx) {
    let deps: WorkerDeps;
    try {
      deps = compose(env).deps;
    } catch (err) {
      if (err instanceof ConfigError)
        logger.error('scheduled work skipped: not configured', {
          cron: controller.cron,
          problems: err.problems,
        });
      throw err;
    }
    switch (controller.cron) {
      // Retention reads and deletes rows by age only: no phone number is parsed, so no metadata is waited for.
      case RETENTION_CRON:
        ctx.waitUntil(runRetention(deps));
        return;
      case LOG_CATCH_UP_CRON: {
        if (!deps.logCatchUp) {
          logger.info(
            'auth0 log catch-up skipped: AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET not set',
          );
          return;
        }
        // Log events carry phone numbers: they are normalized with the metadata, loaded first.
        const catchUp = deps.logCatchUp;
        ctx.waitUntil(
          (phoneMetadataLoaded() ? Promise.resolve() : loadPhoneMetadata(env.ASSETS))
            .then(() => catchUp.run({ trigger: 'cron' }))
            .catch((err: unknown) =>
              logger.error('auth0 log catch-up not run', {
                error: err instanceof Error ? err.message : String(err),
              }),
            ),
        );
        return;
      }
      default:
        logger.warn('unknown Cron Trigger: nothing run', { cron: controller.cron });
    }
  },
} satisfies ExportedHandler<Env>;

/**
 * The hub's Durable Object, as wrangler.toml binds it: the object from ./push/durable-object.ts, plus the
 * phone metadata its replays format numbers with. The object may run in an isolate no request has passed
 * through, so it loads the metadata too; should that fail, replays show numbers unformatted (E.164).
 */
export class AgentHubObject extends HubObject {
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (!phoneMetadataLoaded()) {
      try {
        await loadPhoneMetadata(this.env.ASSETS);
      } catch (err) {
        logger.warn('hub: phone metadata not loaded; replayed numbers are shown unformatted', {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return super.webSocketMessage(ws, message);
  }
}
