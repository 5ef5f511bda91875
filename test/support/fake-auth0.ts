/**
 * A loopback stand-in for what callerpop uses of Auth0's Management API, as Auth0 documents it. Every
 * behaviour cites the page it follows (paths in auth0/docs-v2; "OAS" is
 * main/docs/oas/management/v2/management-api-oas.json at 7025885, the last stored version). Driven by the
 * real `auth0` SDK per-resource clients over real HTTP. Where the docs are silent or disagree, the reading is
 * an option (`readings`), so the code can be run under each.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BucketSpec,
  createRateLimits,
  DEFAULT_READINGS,
  type PresetName,
  type RateLimitReadings,
} from './fake-auth0-buckets.js';
import { createExportJobs } from './fake-auth0-exports.js';
import { createLogStore, type FakeLog } from './fake-auth0-logs.js';

export type { RateLimitReadings } from './fake-auth0-buckets.js';
export type { FakeLog } from './fake-auth0-logs.js';

export interface FakeMethod {
  type: 'phone' | 'totp' | 'push-notification' | 'email';
  phone_number?: string;
  preferred_authentication_method?: 'sms' | 'voice';
  confirmed?: boolean;
}

export interface FakeUser {
  /** The user as Auth0 stores it (user_id, email, phone_number, identities, multifactor, …). */
  profile: Record<string, unknown> & { user_id: string };
  methods?: FakeMethod[];
  /** Names of the roles assigned to the user (GET /users/{id}/roles). */
  roles?: string[];
  /** Names of the permissions the user holds (GET /users/{id}/permissions). */
  permissions?: string[];
}

/** A per-second token bucket (the shape older tests give). */
export interface Bucket {
  limit: number;
  perSecond: number;
}

export interface FakeAuth0Options {
  domain?: string;
  clientId?: string;
  clientSecret?: string;
  users?: FakeUser[];
  connections?: { id: string; name: string }[];
  /** Log events already in the tenant (GET /api/v2/logs), oldest first; log_id assigned when missing. */
  logs?: Partial<FakeLog>[];
  /** A documented plan's buckets (fake-auth0-buckets.ts). */
  plan?: PresetName;
  /** One bucket every Management API request spends, reported in the headers (instead of `plan`). */
  rateLimit?: Bucket;
  /** A second bucket spent first and never reported: 429s the headers could not have predicted. */
  hiddenLimit?: Bucket;
  /** Readings of what the docs leave open (fake-auth0-buckets.ts); default DEFAULT_READINGS. */
  readings?: Partial<RateLimitReadings>;
  obfuscate?: boolean;
  /** Added before answering authentication-methods and logs, so concurrency matters. */
  latencyMs?: number;
  /** Polls of GET /jobs/{id} before the export completes (default 2). */
  exportPolls?: number;
  now?: () => number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  /** ms since the epoch, when the request arrived. */
  at: number;
  status: number;
  /** Requests being answered when this one arrived (including itself). */
  inFlight: number;
  rate?: { limit: number; remaining: number; reset: number; retryAfter?: number };
}

const perSecond = (b: Bucket): BucketSpec => ({ burst: b.limit, sustained: b.perSecond, per: 'second' });

export async function startFakeAuth0(options: FakeAuth0Options = {}) {
  const domain = options.domain ?? 'callerpop-test.us.auth0.com';
  const clientId = options.clientId ?? 'backfill-client';
  const clientSecret = options.clientSecret ?? 'backfill-secret-0123456789';
  const now = options.now ?? Date.now;
  const readings: RateLimitReadings = { ...DEFAULT_READINGS, ...options.readings };
  const users = new Map((options.users ?? []).map((u) => [u.profile.user_id, u]));
  const connections = options.connections ?? [];
  const tokens = new Set<string>();
  const exports = createExportJobs({
    users: () => users.values(),
    connections,
    now,
    polls: options.exportPolls ?? 2,
  });
  const logs = createLogStore(options.logs ?? []);
  const log: LoggedRequest[] = [];
  const faults: { match: (r: LoggedRequest) => boolean; status: number; times: number }[] = [];
  const state = { obfuscate: options.obfuscate ?? false, inFlight: 0 };
  const limits = createRateLimits(
    {
      plan: options.plan,
      reported: options.rateLimit && perSecond(options.rateLimit),
      hidden: options.hiddenLimit && perSecond(options.hiddenLimit),
    },
    readings,
    now(),
  );
  let baseUrl = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  // Management API errors: { statusCode, error, message } (OAS, every operation's 4xx; the SDK reads `body`).
  const error = (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) =>
    send(res, status, { statusCode: status, error: httpError(status), message }, extra);

  async function handle(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest) {
    const url = new URL(req.url ?? '/', baseUrl);
    const body = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      // api/authentication/client-credential-flow/get-token.mdx: form-encoded grant_type=client_credentials,
      // client_id, client_secret, audience; 200 { access_token, token_type, expires_in }. The audience is the
      // Management API's identifier, https://{domain}/api/v2/ (get-management-api-access-tokens-for-production
      // .mdx, "Get access tokens"). Failures: RFC 6749 §5.2's { error, error_description } (Auth0's own codes
      // for them are not documented).
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials') return error(res, 400, 'unsupported_grant_type');
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
        return send(res, 401, { error: 'access_denied', error_description: 'Unauthorized' });
      if (form.get('audience') !== `https://${domain}/api/v2/`)
        return send(res, 403, {
          error: 'access_denied',
          error_description: 'Service not enabled within domain',
        });
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 86400 });
    }
    const exportFile = /^\/exports\/(job_[A-Za-z0-9]+)\.json\.gz$/.exec(url.pathname);
    if (req.method === 'GET' && exportFile) {
      // bulk-user-exports.mdx, "2. Check job status and download the export": the `location` URL downloads
      // the file (gzipped NDJSON for format json, "Supported file formats"); no bearer token.
      const file = exports.file(exportFile[1] as string);
      if (!file) return error(res, 404, 'Not Found');
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(file.length) });
      return res.end(file);
    }
    if (!url.pathname.startsWith('/api/v2/')) return error(res, 404, 'Not Found');
    // OAS, every operation: 401 "Invalid token." without a valid bearer token.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) return error(res, 401, 'Invalid token');
    const path = url.pathname.slice('/api/v2'.length);
    const fault = faults.find((f) => f.times > 0 && f.match(entry));
    if (fault) {
      fault.times -= 1;
      return error(res, fault.status, 'Injected failure');
    }
    // Every Management API request spends the plan's buckets; the headers report one of them.
    const verdict = limits.take(req.method ?? 'GET', path, now());
    const headers: Record<string, string> = {};
    if (verdict.reported) {
      const r = verdict.reported;
      headers['x-ratelimit-limit'] = String(r.limit);
      headers['x-ratelimit-remaining'] = String(r.remaining);
      headers['x-ratelimit-reset'] = String(r.reset);
      entry.rate = { limit: r.limit, remaining: r.remaining, reset: r.reset };
    }
    if (!verdict.ok) {
      // rate-limit-use-cases.mdx, "API responses": "Auth0 API responses deliver HTTP 429 (Too Many Requests)".
      const retryAfter = Math.max(1, Math.ceil((verdict.decisive.nextAt - now()) / 1000));
      if (readings.retryAfter) {
        headers['retry-after'] = String(retryAfter);
        if (entry.rate) entry.rate.retryAfter = retryAfter;
      }
      return error(res, 429, 'Global limit has been reached', headers);
    }

    // bulk-user-exports.mdx (fake-auth0-exports.ts): the export job, its status, and its download above.
    const answer = (a: { status: number; body: unknown } | { status: number; error: string }) =>
      'error' in a ? error(res, a.status, a.error, headers) : send(res, a.status, a.body, headers);
    if (req.method === 'POST' && path === '/jobs/users-exports')
      return answer(exports.create(parseJson(body) as Parameters<typeof exports.create>[0]));
    const jobMatch = /^\/jobs\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && jobMatch) return answer(exports.poll(jobMatch[1] as string, baseUrl));
    if (req.method === 'PATCH' && path === '/tenants/settings') {
      // OAS TenantSettingsFlags.disable_management_api_sms_obfuscation: "If true, SMS phone numbers will not
      // be obfuscated in Management API GET calls."
      const flags = (parseJson(body) as { flags?: Record<string, unknown> } | undefined)?.flags ?? {};
      if (typeof flags.disable_management_api_sms_obfuscation === 'boolean')
        state.obfuscate = !flags.disable_management_api_sms_obfuscation;
      return send(res, 200, { flags: { disable_management_api_sms_obfuscation: !state.obfuscate } }, headers);
    }
    if (req.method === 'GET' && path === '/logs') {
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const answer = logs.list(url, `${baseUrl}/api/v2/logs`);
      if ('error' in answer) return error(res, 400, answer.error, headers);
      return send(res, 200, answer.body, { ...headers, ...answer.headers });
    }
    const methodsMatch = /^\/users\/([^/]+)\/authentication-methods$/.exec(path);
    if (req.method === 'GET' && methodsMatch) {
      // OAS get_authentication-methods: page, per_page, include_totals → { start, limit, total,
      // authenticators } (a bare array without include_totals). Phone numbers are masked unless the tenant
      // flag is on; the mask format is not documented for the Management API: Auth0's one sample is the MFA
      // API's "XXXXXXXX6220" (cte-example-use-cases.mdx).
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      // Path parameters arrive percent-encoded (`auth0%7Cu1`).
      const user = users.get(decodeURIComponent(methodsMatch[1] as string));
      if (!user) return error(res, 404, 'The user does not exist.', headers);
      const all = (user.methods ?? []).map((m, i) => ({
        id: `${m.type}|dev_${i}`,
        created_at: '2025-06-01T00:00:00.000Z',
        ...m,
        ...(m.phone_number && state.obfuscate ? { phone_number: mask(m.phone_number) } : {}),
      }));
      const page = Number(url.searchParams.get('page') ?? 0);
      const perPage = Number(url.searchParams.get('per_page') ?? 50);
      const slice = all.slice(page * perPage, page * perPage + perPage);
      if (url.searchParams.get('include_totals') === 'true')
        return send(
          res,
          200,
          { start: page * perPage, limit: perPage, total: all.length, authenticators: slice },
          headers,
        );
      return send(res, 200, slice, headers);
    }
    const listMatch = /^\/users\/([^/]+)\/(roles|permissions)$/.exec(path);
    if (req.method === 'GET' && listMatch) {
      // OAS get_user_roles / get_permissions: page, per_page, include_totals → { start, limit, total, roles }
      // (Role: { id, name, description }) or { start, limit, total, permissions } (UserPermissionSchema:
      // { permission_name, resource_server_identifier, resource_server_name, description }); a bare array
      // without include_totals; 404 for an unknown user.
      const user = users.get(decodeURIComponent(listMatch[1] as string));
      if (!user) return error(res, 404, 'The user does not exist.', headers);
      const kind = listMatch[2] as 'roles' | 'permissions';
      const all =
        kind === 'roles'
          ? (user.roles ?? []).map((name, i) => ({ id: `rol_${i}${name.length}`, name, description: name }))
          : (user.permissions ?? []).map((name) => ({
              permission_name: name,
              resource_server_identifier: 'https://callerpop/api',
              resource_server_name: 'callerpop',
              description: name,
            }));
      const page = Number(url.searchParams.get('page') ?? 0);
      const perPage = Number(url.searchParams.get('per_page') ?? 50);
      const slice = all.slice(page * perPage, page * perPage + perPage);
      if (url.searchParams.get('include_totals') === 'true')
        return send(
          res,
          200,
          { start: page * perPage, limit: perPage, total: all.length, [kind]: slice },
          headers,
        );
      return send(res, 200, slice, headers);
    }
    return error(res, 404, 'Not Found', headers);
  }

  const server = createServer((req, res) => {
    state.inFlight += 1;
    const [path, query] = (req.url ?? '/').split('?');
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: path as string,
      query: query ?? '',
      at: now(),
      status: 0,
      inFlight: state.inFlight,
    };
    log.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    res.on('close', () => {
      state.inFlight -= 1;
    });
    handle(req, res, entry).catch((e: unknown) => error(res, 500, String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    domain,
    clientId,
    clientSecret,
    log,
    /** The env callerpop needs to reach this fake (AUTH0_PLAN when a documented plan is played). */
    env: {
      AUTH0_DOMAIN: domain,
      AUTH0_CLIENT_ID: clientId,
      AUTH0_CLIENT_SECRET: clientSecret,
      AUTH0_API_BASE_URL: baseUrl,
      ...(options.plan ? { AUTH0_PLAN: options.plan } : {}),
    } as Record<string, string>,
    get obfuscate() {
      return state.obfuscate;
    },
    methodCalls: () => log.filter((r) => r.path.endsWith('/authentication-methods')),
    tokenCalls: () => log.filter((r) => r.path === '/oauth/token'),
    logCalls: () => log.filter((r) => r.path === '/api/v2/logs'),
    deleteUser: (userId: string) => users.delete(userId),
    /** Assigns the user exactly these roles from now on (an administrator's change in the Dashboard). */
    setRoles: (userId: string, roles: string[]) => {
      const user = users.get(userId);
      if (user) user.roles = [...roles];
    },
    /** Every token issued so far stops working (expired or revoked): the next call answers 401. */
    revokeTokens: () => tokens.clear(),
    /** Appends log events as Auth0 would record them (ids after every existing one). */
    addLogs: (items: Partial<FakeLog>[]) => logs.add(items),
    get logs(): readonly FakeLog[] {
      return logs.all();
    },
    /** The next `times` requests matching answer `status` (before any rate limit is spent). */
    fail(match: (r: LoggedRequest) => boolean, status: number, times = 1) {
      faults.push({ match, status, times });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeAuth0 = Awaited<ReturnType<typeof startFakeAuth0>>;

/** How Auth0 masks phone factors while SMS obfuscation is on: all but the last four digits. */
export function mask(phone: string): string {
  return `XXXXXXXX${phone.replace(/\D/g, '').slice(-4)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function httpError(status: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
        429: 'Too Many Requests',
      } as Record<number, string>
    )[status] ?? 'Error'
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      data += c;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
