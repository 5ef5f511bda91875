/**
 * A loopback stand-in for what the backfill uses of Auth0, as Auth0 documents it:
 * - `POST /oauth/token` (client credentials, form-encoded, audience `https://{domain}/api/v2/`);
 * - `POST /api/v2/jobs/users-exports` (format json|csv, fields [{name, export_as}], connection_id?),
 *   `GET /api/v2/jobs/{id}` (pending → processing → completed with `location`), and the download itself:
 *   gzipped NDJSON, one object per user keyed by `export_as ?? name`, from a presigned URL (no bearer);
 * - `GET /api/v2/users/{id}/authentication-methods` (page, per_page, include_totals → `{start, limit,
 *   total, authenticators}`), paced by a token bucket reported in `x-ratelimit-limit` / `-remaining` /
 *   `-reset` (epoch seconds when the bucket is full again); over the limit: 429 with `Retry-After`;
 *   phone numbers masked ("XXXXXXXX4567") while the tenant flag `disable_management_api_sms_obfuscation`
 *   is off;
 * - `PATCH /api/v2/tenants/settings` `{ flags: { disable_management_api_sms_obfuscation } }`.
 * A `hiddenLimit` adds a second bucket the headers do not report (like Auth0's global limit on free
 * tenants), to produce 429s the headers could not have predicted. Every request is logged with its time.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

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
}

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
  rateLimit?: Bucket;
  hiddenLimit?: Bucket;
  obfuscate?: boolean;
  /** Added before answering authentication-methods, so concurrency matters. */
  latencyMs?: number;
  /** Polls of GET /jobs/{id} before the export completes (default 2). */
  exportPolls?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** ms since the epoch, when the request arrived. */
  at: number;
  status: number;
  /** Requests being answered when this one arrived (including itself). */
  inFlight: number;
  rate?: { limit: number; remaining: number; reset: number; retryAfter?: number };
}

class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(readonly spec: Bucket) {
    this.tokens = spec.limit;
  }
  private refill(now: number) {
    this.tokens = Math.min(this.spec.limit, this.tokens + ((now - this.last) / 1000) * this.spec.perSecond);
    this.last = now;
  }
  take(now: number, consume = true): { ok: boolean; remaining: number; reset: number; retryAfter: number } {
    this.refill(now);
    const ok = consume && this.tokens >= 1;
    if (ok) this.tokens -= 1;
    const full = now + ((this.spec.limit - this.tokens) / this.spec.perSecond) * 1000;
    const retryAfter = ok ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.spec.perSecond));
    return { ok, remaining: Math.floor(this.tokens), reset: Math.ceil(full / 1000), retryAfter };
  }
}

export async function startFakeAuth0(options: FakeAuth0Options = {}) {
  const domain = options.domain ?? 'callerpop-test.us.auth0.com';
  const clientId = options.clientId ?? 'backfill-client';
  const clientSecret = options.clientSecret ?? 'backfill-secret-0123456789';
  const users = new Map((options.users ?? []).map((u) => [u.profile.user_id, u]));
  const connections = options.connections ?? [];
  const tokens = new Set<string>();
  const jobs = new Map<string, { job: Record<string, unknown>; polls: number; file?: Buffer }>();
  const bucket = new TokenBucket(options.rateLimit ?? { limit: 50, perSecond: 50 });
  const hidden = options.hiddenLimit ? new TokenBucket(options.hiddenLimit) : undefined;
  const log: LoggedRequest[] = [];
  const state = { obfuscate: options.obfuscate ?? false, inFlight: 0 };
  let baseUrl = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) =>
    send(res, status, { statusCode: status, error: httpError(status), message }, extra);

  async function handle(req: IncomingMessage, res: ServerResponse, entry: LoggedRequest) {
    const url = new URL(req.url ?? '/', baseUrl);
    const body = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
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
      return send(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'read:users read:authentication_methods update:tenant_settings',
      });
    }
    const exportFile = /^\/exports\/(job_[A-Za-z0-9]+)\.json\.gz$/.exec(url.pathname);
    if (req.method === 'GET' && exportFile) {
      const file = jobs.get(exportFile[1] as string)?.file;
      if (!file) return error(res, 404, 'Not Found');
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': String(file.length) });
      return res.end(file);
    }
    if (!url.pathname.startsWith('/api/v2/')) return error(res, 404, 'Not Found');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) return error(res, 401, 'Invalid token');
    const path = url.pathname.slice('/api/v2'.length);

    if (req.method === 'POST' && path === '/jobs/users-exports') {
      const input = parseJson(body) as {
        connection_id?: string;
        format?: string;
        fields?: { name: string; export_as?: string }[];
      };
      if (!input || (input.format !== undefined && !['json', 'csv'].includes(input.format)))
        return error(res, 400, 'Payload validation error: format must be json or csv');
      const connection = input.connection_id
        ? connections.find((c) => c.id === input.connection_id)
        : undefined;
      if (input.connection_id && !connection) return error(res, 404, 'The connection does not exist');
      const id = `job_${randomBytes(8).toString('hex')}`;
      const job = {
        type: 'users_export',
        status: 'pending',
        id,
        created_at: new Date().toISOString(),
        format: input.format ?? 'csv',
        fields: input.fields,
        ...(connection ? { connection_id: connection.id, connection: connection.name } : {}),
      };
      const lines = [...users.values()]
        .filter(
          (u) =>
            !connection ||
            (u.profile.identities as { connection?: string }[] | undefined)?.[0]?.connection ===
              connection.name,
        )
        .map((u) =>
          JSON.stringify(
            Object.fromEntries(
              (input.fields ?? [])
                .map((f) => [f.export_as ?? f.name, pick(u.profile, f.name)])
                .filter(([, v]) => v !== undefined),
            ),
          ),
        );
      jobs.set(id, { job, polls: 0, file: gzipSync(lines.map((l) => `${l}\n`).join('')) });
      return send(res, 201, job);
    }
    const jobMatch = /^\/jobs\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && jobMatch) {
      const record = jobs.get(jobMatch[1] as string);
      if (!record) return error(res, 404, 'The job does not exist');
      record.polls += 1;
      const status = record.polls < (options.exportPolls ?? 2) ? 'processing' : 'completed';
      const extra =
        status === 'completed'
          ? { location: `${baseUrl}/exports/${record.job.id}.json.gz`, percentage_done: 100 }
          : { percentage_done: 50, time_left_seconds: 1 };
      return send(res, 200, { ...record.job, status, ...extra });
    }
    if (req.method === 'PATCH' && path === '/tenants/settings') {
      const flags = (parseJson(body) as { flags?: Record<string, unknown> } | undefined)?.flags ?? {};
      if (typeof flags.disable_management_api_sms_obfuscation === 'boolean')
        state.obfuscate = !flags.disable_management_api_sms_obfuscation;
      return send(res, 200, { flags: { disable_management_api_sms_obfuscation: !state.obfuscate } });
    }
    const methodsMatch = /^\/users\/([^/]+)\/authentication-methods$/.exec(path);
    if (req.method === 'GET' && methodsMatch) {
      const now = Date.now();
      const hiddenTake = hidden?.take(now);
      // Refused by the hidden limit: the reported bucket is not spent.
      const take = hiddenTake && !hiddenTake.ok ? bucket.take(now, false) : bucket.take(now);
      const retryAfter = Math.max(take.retryAfter, hiddenTake && !hiddenTake.ok ? hiddenTake.retryAfter : 0);
      entry.rate = {
        limit: bucket.spec.limit,
        remaining: take.remaining,
        reset: take.reset,
        ...(take.ok ? {} : { retryAfter }),
      };
      const headers: Record<string, string> = {
        'x-ratelimit-limit': String(bucket.spec.limit),
        'x-ratelimit-remaining': String(take.remaining),
        'x-ratelimit-reset': String(take.reset),
      };
      if (!take.ok)
        return error(res, 429, 'Global limit has been reached', {
          ...headers,
          'retry-after': String(retryAfter),
        });
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
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
    return error(res, 404, 'Not Found');
  }

  const server = createServer((req, res) => {
    state.inFlight += 1;
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] as string,
      at: Date.now(),
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
    /** The env the backfill needs to reach this fake. */
    env: {
      AUTH0_DOMAIN: domain,
      AUTH0_CLIENT_ID: clientId,
      AUTH0_CLIENT_SECRET: clientSecret,
      AUTH0_API_BASE_URL: baseUrl,
    },
    get obfuscate() {
      return state.obfuscate;
    },
    methodCalls: () => log.filter((r) => r.path.endsWith('/authentication-methods')),
    deleteUser: (userId: string) => users.delete(userId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeAuth0 = Awaited<ReturnType<typeof startFakeAuth0>>;

/** How Auth0 masks phone factors while SMS obfuscation is on: all but the last four digits. */
export function mask(phone: string): string {
  return `XXXXXXXX${phone.replace(/\D/g, '').slice(-4)}`;
}

/** Resolves an export field name: `email`, `user_metadata.plan`, `identities[0].connection`. */
function pick(obj: Record<string, unknown>, name: string): unknown {
  let value: unknown = obj;
  for (const part of name.split('.')) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (!m || typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[m[1] as string];
    if (m[2] !== undefined) value = Array.isArray(value) ? value[Number(m[2])] : undefined;
  }
  return value;
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
