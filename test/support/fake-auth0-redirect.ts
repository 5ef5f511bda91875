import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import vm from 'node:vm';

/**
 * Auth0's side of "Redirect with Actions", as documented:
 * - `api.redirect.sendUserTo(url, { query })` sends the user to `url` with the query plus Auth0's `state`;
 * - `api.redirect.encodeToken({ secret, expiresInSeconds, payload })` makes an HS256 JWT with
 *   iss = the tenant domain, sub = the user id, iat, exp, the transaction's `state`, and the payload as claims;
 * - `api.redirect.validateToken({ secret, tokenParameterName })` reads `event.request.query/body[name]`,
 *   checks the signature, the standard claims (iat, exp, sub, iss, state), the expiry, that `state` equals
 *   this transaction's and that `sub` is this user, and throws otherwise;
 * - `/continue?state=…` resumes the transaction once (the state is spent) by calling onContinuePostLogin.
 * The Action itself runs as Auth0 runs it: CommonJS, `exports`, `require` of Node built-ins only.
 */

export interface PostLoginAction {
  onExecutePostLogin: (event: ActionEvent, api: PostLoginApi) => Promise<void>;
  onContinuePostLogin?: (event: ActionEvent, api: PostLoginApi) => Promise<void>;
}

export interface ActionUser {
  user_id: string;
  email?: string;
  phone_number?: string;
  phone_verified?: boolean;
  user_metadata: Record<string, unknown>;
  app_metadata: Record<string, unknown>;
}

export interface ActionEvent {
  user: ActionUser;
  secrets: Record<string, string>;
  request: { hostname: string; query: Record<string, string>; body: Record<string, string> };
  transaction: { protocol: string };
}

export interface PostLoginApi {
  access: { deny: (reason: string) => void };
  user: {
    setAppMetadata: (key: string, value: unknown) => void;
    setUserMetadata: (key: string, value: unknown) => void;
  };
  redirect: {
    canRedirect: () => boolean;
    sendUserTo: (url: string, options?: { query?: Record<string, string> }) => void;
    encodeToken: (options: {
      secret: string;
      expiresInSeconds?: number;
      payload?: Record<string, unknown>;
    }) => string;
    validateToken: (options: { secret: string; tokenParameterName?: string }) => Record<string, unknown>;
  };
}

/** Loads an Action script the way Auth0 runs it: CommonJS in its own context, only Node built-ins to require. */
export function loadAction(path: string): PostLoginAction {
  const source = readFileSync(path, 'utf8');
  const nodeRequire = createRequire(import.meta.url);
  const builtinOnly = (name: string) => {
    const bare = name.replace(/^node:/, '');
    if (!['crypto', 'url', 'util', 'querystring'].includes(bare))
      throw new Error(`Cannot find module '${name}'`);
    return nodeRequire(`node:${bare}`);
  };
  const module = { exports: {} as Record<string, unknown> };
  const wrapper = vm.runInThisContext(`(function (exports, require, module) {\n${source}\n})`, {
    filename: path,
  });
  wrapper(module.exports, builtinOnly, module);
  return module.exports as unknown as PostLoginAction;
}

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

function signJwt(claims: Record<string, unknown>, secret: string): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function verifyJwt(token: string, secret: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('The session token is invalid: malformed');
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
  if (header.alg !== 'HS256') throw new Error('The session token is invalid: algorithm');
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new Error('The session token is invalid: invalid signature');
  return JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export interface LoginOutcome {
  /** Where the Action sent the user (query and Auth0's state included), if it redirected. */
  redirectUrl?: string;
  denied?: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
}

/** One login transaction: its state, its user, the Action's effects. */
export class FakeLogin {
  readonly state = randomBytes(24).toString('base64url');
  readonly outcome: LoginOutcome = { appMetadata: {}, userMetadata: {} };
  continued = false;

  constructor(
    readonly tenant: FakeAuth0Tenant,
    readonly action: PostLoginAction,
    readonly user: ActionUser,
    readonly options: { canRedirect?: boolean; protocol?: string } = {},
  ) {}

  private event(
    request: { query?: Record<string, string>; body?: Record<string, string> } = {},
  ): ActionEvent {
    return {
      user: this.user,
      secrets: this.tenant.secrets,
      request: { hostname: this.tenant.domain, query: request.query ?? {}, body: request.body ?? {} },
      transaction: { protocol: this.options.protocol ?? 'oidc-basic-profile' },
    };
  }

  private api(event: ActionEvent): PostLoginApi {
    const outcome = this.outcome;
    const tenant = this.tenant;
    const state = this.state;
    return {
      access: {
        deny: (reason) => {
          outcome.denied = reason;
        },
      },
      user: {
        setAppMetadata: (key, value) => {
          outcome.appMetadata[key] = value;
        },
        setUserMetadata: (key, value) => {
          outcome.userMetadata[key] = value;
        },
      },
      redirect: {
        canRedirect: () => this.options.canRedirect ?? true,
        sendUserTo: (url, options) => {
          const target = new URL(url);
          for (const [k, v] of Object.entries(options?.query ?? {})) target.searchParams.set(k, v);
          target.searchParams.set('state', state);
          outcome.redirectUrl = target.toString();
        },
        encodeToken: ({ secret, expiresInSeconds = 900, payload = {} }) => {
          const iat = Math.floor(tenant.now() / 1000);
          return signJwt(
            {
              ...payload,
              iss: tenant.domain,
              sub: event.user.user_id,
              state,
              iat,
              exp: iat + expiresInSeconds,
            },
            secret,
          );
        },
        validateToken: ({ secret, tokenParameterName = 'session_token' }) => {
          const token = event.request.query[tokenParameterName] ?? event.request.body[tokenParameterName];
          if (typeof token !== 'string' || token === '') throw new Error('The session token is missing');
          const claims = verifyJwt(token, secret);
          for (const name of ['iat', 'exp', 'sub', 'iss', 'state'])
            if (claims[name] === undefined) throw new Error('Missing or invalid standard claims');
          if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(tenant.now() / 1000))
            throw new Error('The session token is invalid: jwt expired');
          if (claims.state !== state)
            throw new Error(
              'The session token is invalid: State in the token does not match the /continue state.',
            );
          if (claims.sub !== event.user.user_id) throw new Error('Missing or invalid standard claims');
          return claims;
        },
      },
    };
  }

  async execute(): Promise<LoginOutcome> {
    const event = this.event();
    await this.action.onExecutePostLogin(event, this.api(event));
    if (this.outcome.redirectUrl && !this.outcome.denied) this.tenant.pending.set(this.state, this);
    return this.outcome;
  }

  /** What `/continue` does: resume this transaction once with the request's query and body. */
  async resume(request: {
    query?: Record<string, string>;
    body?: Record<string, string>;
  }): Promise<LoginOutcome> {
    if (this.continued) throw new Error('transaction already resumed');
    this.continued = true;
    this.tenant.pending.delete(this.state);
    const event = this.event(request);
    const handler = this.action.onContinuePostLogin;
    if (!handler) throw new Error('the Action has no onContinuePostLogin');
    await handler(event, this.api(event));
    return this.outcome;
  }
}

export class FakeAuth0Tenant {
  readonly pending = new Map<string, FakeLogin>();
  now: () => number = () => Date.now();

  constructor(
    readonly domain: string,
    readonly secrets: Record<string, string>,
  ) {}

  login(action: PostLoginAction, user: ActionUser, options?: { canRedirect?: boolean; protocol?: string }) {
    return new FakeLogin(this, action, user, options);
  }

  /** Resumes the transaction named by `state`, as Auth0's /continue does; unknown or spent state → null. */
  async continue(query: Record<string, string>): Promise<LoginOutcome | null> {
    const login = query.state ? this.pending.get(query.state) : undefined;
    if (!login) return null;
    return login.resume({ query });
  }
}

/**
 * A loopback stand-in for `https://{tenant}/continue`: resumes the transaction and answers with a small page
 * that says whether the login finished or was denied (and why).
 */
export async function startContinueServer(
  tenantOrGetter: FakeAuth0Tenant | (() => FakeAuth0Tenant),
): Promise<{ server: Server; baseUrl: string; hits: URL[]; close: () => Promise<void> }> {
  const hits: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    hits.push(url);
    if (url.pathname !== '/continue') {
      res.writeHead(404).end();
      return;
    }
    const tenant = typeof tenantOrGetter === 'function' ? tenantOrGetter() : tenantOrGetter;
    tenant
      .continue(Object.fromEntries(url.searchParams))
      .then((outcome) => {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        if (!outcome) {
          res.writeHead(400).end('<!doctype html><title>invalid_request</title><h1>invalid_request</h1>');
          return;
        }
        if (outcome.denied) {
          res
            .writeHead(403)
            .end(
              `<!doctype html><title>access_denied</title><h1 id="denied">${escapeHtml(outcome.denied)}</h1>`,
            );
          return;
        }
        res
          .writeHead(200)
          .end(
            `<!doctype html><title>Signed in</title><h1 id="signed-in">Signed in</h1><p id="phone">${escapeHtml(String(outcome.appMetadata.callerpop_verified_phone ?? ''))}</p>`,
          );
      })
      .catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
