import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer, upgradeWebSocket } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import type { ConfigInput } from '../../src/config.js';
import type { AppDeps } from '../../src/deps.js';
import { upsertAccounts, upsertLinks } from '../../src/phone-index/write-queries.js';
import { createMemoryHub, type MemoryHub } from '../../src/push/memory-hub.js';
import { replayChangesSince } from '../../src/push/replay.js';
import { createTestContext, type TestContext } from './context.js';
import { type FormParams, twilioFormRequest } from './twilio-sign.js';

/**
 * The real app on a real loopback HTTP server with the in-process hub and WebSocket upgrades, exactly as
 * `npm start` wires it. PUBLIC_BASE_URL is the server's own URL, so Twilio signatures made over it verify.
 */
export interface AgentServer extends TestContext {
  url: string;
  hub: MemoryHub;
  /** A signed Twilio form POST to this server (`/twilio/voice`, `/twilio/sms`…). */
  twilioPost(path: string, params: FormParams): Promise<Response>;
  /** Session cookie for `Cookie:` headers, by signing in with the token link. */
  signIn(): Promise<string>;
  stop(): Promise<void>;
}

export async function startAgentServer(
  options: {
    /** Settings, or a function of the server's URL (for services that must know it, like an IdP). */
    env?: ConfigInput | ((url: string) => ConfigInput | Promise<ConfigInput>);
    deps?: Partial<AppDeps>;
    /** Serve HTTPS with this key and certificate (for Secure / SameSite=None cookies). */
    tls?: { key: string; cert: string };
  } = {},
): Promise<AgentServer> {
  let handler: (req: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response('starting', { status: 503 });
  const wss = new WebSocketServer({ noServer: true });
  const server = createAdaptorServer({
    fetch: (req, env) => handler(req, env),
    websocket: { server: wss },
    hostname: '127.0.0.1',
    ...(options.tls ? { createServer: createHttpsServer, serverOptions: options.tls } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let ctxRef: TestContext | undefined;
  const hubLogger = { info() {}, warn() {}, error() {} };
  const hub = createMemoryHub({
    upgradeWebSocket,
    logger: hubLogger,
    replay: (since) => {
      if (!ctxRef) throw new Error('not started');
      return replayChangesSince(ctxRef.deps.db, ctxRef.config, since);
    },
  });
  const ctx = await createTestContext({
    env: {
      PUBLIC_BASE_URL: url,
      ...(typeof options.env === 'function' ? await options.env(url) : options.env),
    },
    deps: { hub, ...options.deps },
  });
  ctxRef = ctx;
  handler = (req, env) => ctx.app.fetch(req, env);

  return {
    ...ctx,
    url,
    hub,
    // Over HTTPS (a self-signed certificate Node's fetch would refuse) the request goes in-process.
    twilioPost: (path, params) => {
      const request = twilioFormRequest(path, params, { baseUrl: url }, url);
      return options.tls ? Promise.resolve(ctx.app.request(request)) : fetch(request);
    },
    async signIn() {
      const res = await fetch(`${url}/agent/login?token=${encodeURIComponent(ctx.config.ADMIN_TOKEN)}`, {
        redirect: 'manual',
      });
      const cookie = res.headers.get('set-cookie');
      if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
      return cookie.split(';')[0] as string;
    },
    async stop() {
      hub.disconnectAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ctx.close();
    },
  };
}

/** Two accounts sharing one number (a family phone), plus one account on its own number. */
export async function seedSharedNumber(deps: AppDeps, e164 = '+14155550123') {
  const at = deps.now() - 60_000;
  await upsertAccounts(deps.db, [
    {
      userId: 'auth0|alice',
      connection: 'Username-Password-Authentication',
      email: 'alice@example.com',
      name: 'Alice Martin',
      blocked: false,
      lastLoginAt: at,
      at,
    },
    {
      userId: 'sms|bob',
      connection: 'sms',
      email: null,
      name: 'Bob Martin',
      blocked: false,
      lastLoginAt: at - 86_400_000,
      at,
    },
  ]);
  await upsertLinks(deps.db, [
    { e164, userId: 'auth0|alice', source: 'mfa_sms', verified: true, at },
    { e164, userId: 'sms|bob', source: 'passwordless', verified: true, at },
  ]);
  return e164;
}
