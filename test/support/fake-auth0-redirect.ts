import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import vm from 'node:vm';

/**
 * Auth0's side of "Redirect with Actions", as its documentation describes it. Every behaviour below cites
 * the page it follows; `REDIRECT_PAGE` is auth0/docs-v2 main/docs/customize/actions/redirect-with-actions.mdx,
 * `API_PAGE` is main/docs/actions/reference/post-login/post-login-api-object.mdx ("api.redirect").
 * Where the pages are silent, `RedirectReadings` chooses a reading, and the tests run under each.
 * The Action itself runs as Auth0 runs it: CommonJS, `exports`, `require` of Node built-ins only.
 */

/**
 * What the documentation leaves open. Each field is one question the pages do not settle.
 */
export interface RedirectReadings {
  /**
   * What `validateToken()` returns. REDIRECT_PAGE, "Pass information back to the Action": "Any other custom
   * claims will be exposed as the `payload`"; whether sub/iss/iat/exp/state are in it too is not said.
   * 'custom': only the claims that are not standard; 'all': every claim of the token.
   */
  validateTokenReturns: 'custom' | 'all';
  /**
   * Whether the token `encodeToken()` makes carries `iat`. REDIRECT_PAGE, "Pass data to the external site",
   * lists sub, iss, exp, ip and the payload; tokens seen from real tenants also carry iat.
   */
  encodeTokenIat: boolean;
  /**
   * What `validateToken()` checks beyond the three things REDIRECT_PAGE lists (signature, expiry, state):
   * 'documented' checks only those; 'strict' also insists on every standard claim of the page's table
   * (sub, iss, exp, state, plus iat) and on `sub` being this login's user.
   */
  validateTokenChecks: 'documented' | 'strict';
  /**
   * Which browser `/continue` resumes a login in. REDIRECT_PAGE, "Resume the authentication flow", asks only for
   * `state`, "an opaque value used to prevent Cross-Site Request Forgery (CSRF) attacks", which suggests the
   * transaction is tied to the browser that started it; whether another browser holding the state can resume
   * it is not said. 'browser': only the browser that started the login; 'state': any browser with the state.
   * Absent: 'browser'.
   */
  continueBinding?: 'browser' | 'state';
}

/** Every combination the tests run under: the least Auth0 might do, and the most. */
export const REDIRECT_READINGS: Record<string, RedirectReadings> = {
  'custom claims only, no iat, documented checks': {
    validateTokenReturns: 'custom',
    encodeTokenIat: false,
    validateTokenChecks: 'documented',
  },
  'all claims, iat, strict checks': {
    validateTokenReturns: 'all',
    encodeTokenIat: true,
    validateTokenChecks: 'strict',
  },
  'custom claims only, iat, strict checks': {
    validateTokenReturns: 'custom',
    encodeTokenIat: true,
    validateTokenChecks: 'strict',
  },
  'all claims, no iat, documented checks': {
    validateTokenReturns: 'all',
    encodeTokenIat: false,
    validateTokenChecks: 'documented',
  },
};

/** The reading used where a test does not choose one. */
export const DEFAULT_READINGS: RedirectReadings = {
  validateTokenReturns: 'custom',
  encodeTokenIat: true,
  validateTokenChecks: 'documented',
};

/** The claims a JWT library treats as registered, plus Auth0's `state`; the rest are "custom claims". */
const STANDARD_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'state', 'ip']);

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
  request: { hostname: string; ip: string; query: Record<string, string>; body: Record<string, string> };
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

export interface LoginOptions {
  canRedirect?: boolean;
  /** The browser the login runs in (its Auth0 cookies): `/continue` from another is another browser. */
  browser?: string;
  protocol?: string;
  /** event.request.ip: the `ip` claim of encodeToken()'s token. */
  ip?: string;
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
    readonly options: LoginOptions = {},
  ) {}

  private event(
    request: { query?: Record<string, string>; body?: Record<string, string> } = {},
  ): ActionEvent {
    return {
      user: this.user,
      secrets: this.tenant.secrets,
      request: {
        hostname: this.tenant.domain,
        ip: this.options.ip ?? '203.0.113.7',
        query: request.query ?? {},
        body: request.body ?? {},
      },
      transaction: { protocol: this.options.protocol ?? 'oidc-basic-profile' },
    };
  }

  private api(event: ActionEvent): PostLoginApi {
    const outcome = this.outcome;
    const tenant = this.tenant;
    const state = this.state;
    const readings = tenant.readings;
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
        // API_PAGE, "api.redirect.canRedirect()": false for resource-owner and refresh-token grants and prompt=none.
        canRedirect: () => this.options.canRedirect ?? true,
        // REDIRECT_PAGE, "Overview" and "Start a redirect": the user goes to the URL with the query options
        // appended, and Auth0 "also passes a `state` parameter in that URL".
        sendUserTo: (url, options) => {
          const target = new URL(url);
          for (const [k, v] of Object.entries(options?.query ?? {})) target.searchParams.set(k, v);
          target.searchParams.set('state', state);
          outcome.redirectUrl = target.toString();
        },
        // REDIRECT_PAGE, "Pass data to the external site": sub (user_id), iss (the tenant's hostname), exp
        // (expiresInSeconds, default 900), ip, the payload's claims, HS256 with the secret. No `state` claim.
        encodeToken: ({ secret, expiresInSeconds = 900, payload = {} }) => {
          const now = Math.floor(tenant.now() / 1000);
          const claims: Record<string, unknown> = {
            ...payload,
            sub: event.user.user_id,
            iss: tenant.domain,
            exp: now + expiresInSeconds,
            ip: event.request.ip,
          };
          if (readings.encodeTokenIat) claims.iat = now;
          return signJwt(claims, secret);
        },
        // REDIRECT_PAGE, "Pass information back to the Action": the token is read from the query or body
        // parameter `tokenParameterName` (API_PAGE), and "validated to ensure that: the signature is valid; the
        // token is not expired; the `state` claim within the token matches the `state` parameter used as part
        // of the redirect". It throws otherwise; what it returns is a reading (see RedirectReadings).
        validateToken: ({ secret, tokenParameterName = 'session_token' }) => {
          const token = event.request.query[tokenParameterName] ?? event.request.body[tokenParameterName];
          if (typeof token !== 'string' || token === '') throw new Error('The session token is missing');
          const claims = verifyJwt(token, secret);
          if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(tenant.now() / 1000))
            throw new Error('The session token is invalid: jwt expired');
          if (claims.state !== state)
            throw new Error(
              'The session token is invalid: State in the token does not match the /continue state.',
            );
          if (readings.validateTokenChecks === 'strict') {
            for (const name of ['iat', 'exp', 'sub', 'iss', 'state'])
              if (claims[name] === undefined) throw new Error('Missing or invalid standard claims');
            if (claims.sub !== event.user.user_id) throw new Error('Missing or invalid standard claims');
          }
          if (readings.validateTokenReturns === 'all') return claims;
          return Object.fromEntries(Object.entries(claims).filter(([name]) => !STANDARD_CLAIMS.has(name)));
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

  /**
   * What `/continue` does: REDIRECT_PAGE, "Overview" (5.): "the Actions pipeline is resumed on the same Action
   * that invoked the redirect" by calling onContinuePostLogin with the request's query and body. The login then
   * ends, so a second /continue with the same state finds nothing to resume.
   */
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
  /** The Action's secrets (event.secrets); a test may change them between steps of a login (rotation). */
  secrets: Record<string, string>;

  constructor(
    readonly domain: string,
    secrets: Record<string, string>,
    public readings: RedirectReadings = DEFAULT_READINGS,
  ) {
    this.secrets = secrets;
  }

  login(action: PostLoginAction, user: ActionUser, options?: LoginOptions) {
    return new FakeLogin(this, action, user, options);
  }

  /**
   * Resumes the transaction named by `state`, as Auth0's /continue does (REDIRECT_PAGE, "Resume the
   * authentication flow": without the original state the user gets `invalid_request`); unknown or spent
   * state → null.
   */
  async continue(
    query: Record<string, string>,
    from: { browser?: string } = {},
  ): Promise<LoginOutcome | null> {
    const login = query.state ? this.pending.get(query.state) : undefined;
    if (!login) return null;
    // Another browser than the one the login started in: under the 'browser' reading Auth0 finds no transaction.
    const started = login.options.browser ?? 'the browser that started it';
    const arriving = from.browser ?? started;
    if ((this.readings.continueBinding ?? 'browser') === 'browser' && arriving !== started) return null;
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
