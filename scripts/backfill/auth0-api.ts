import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Management, ManagementClient, ManagementError } from 'auth0';
import { describeError } from './describe-error.js';
import { type MfaResult, phonesFromMethods } from './mfa.js';
import { type AdaptiveLimiter, readRateLimitHeaders, readRetryAfter } from './rate-limiter.js';

export interface Auth0Settings {
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Where `https://{domain}` is really reached (private cloud, test server). */
  apiBaseUrl?: string;
  fetch?: typeof fetch;
}

/**
 * ManagementClient always calls `https://{domain}` (API and /oauth/token alike) and has no base URL
 * option, but it sends every request through `fetch`: rewriting the origin there reaches any base URL.
 */
export function rebaseFetch(
  domain: string,
  base: string | undefined,
  inner: typeof fetch = fetch,
): typeof fetch {
  if (!base) return inner;
  const from = `https://${domain}`;
  const to = base.replace(/\/+$/, '');
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const rewritten = url.startsWith(from) ? to + url.slice(from.length) : url;
    return inner(
      typeof input === 'string' || input instanceof URL ? rewritten : new Request(rewritten, input),
      init,
    );
  };
}

/**
 * The SDK's own retries (maxRetries, 2 by default) are turned off: they would retry a 429 out of sight of
 * the pacing, so 429s could be neither counted nor used to slow down. The retry loops live here.
 */
export function createManagement(settings: Auth0Settings): ManagementClient {
  return new ManagementClient({
    domain: settings.domain,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    fetch: rebaseFetch(settings.domain, settings.apiBaseUrl, settings.fetch),
    maxRetries: 0,
    timeoutInSeconds: 30,
  });
}

/** Exactly the fields the index reads; `export_as` keeps Auth0's names so a file from the dashboard reads the same. */
export const EXPORT_FIELDS = [
  'user_id',
  'email',
  'name',
  'phone_number',
  'phone_verified',
  'identities',
  'multifactor',
  'blocked',
  'last_login',
  'created_at',
  'updated_at',
].map((name) => ({ name, export_as: name }));

export interface ExportJob {
  id: string;
  createdAt: number;
}

export async function createExportJob(client: ManagementClient, connectionId?: string): Promise<ExportJob> {
  const job = await client.jobs.usersExports.create(
    { format: 'json', fields: EXPORT_FIELDS, ...(connectionId ? { connection_id: connectionId } : {}) },
    { maxRetries: 3 },
  );
  const createdAt = job.created_at ? Date.parse(job.created_at) : Number.NaN;
  return { id: job.id, createdAt: Number.isNaN(createdAt) ? Date.now() : createdAt };
}

/** Polls the job until Auth0 gives the download location; a failed or expired job is an error. */
export async function waitForExport(
  client: ManagementClient,
  jobId: string,
  options: { pollMs: number; onStatus?: (status: string, percent?: number) => void; signal?: AbortSignal },
): Promise<string> {
  for (;;) {
    options.signal?.throwIfAborted();
    const job = await client.jobs.get(jobId, { maxRetries: 3 });
    options.onStatus?.(job.status, job.percentage_done);
    if (job.status === 'completed') {
      if (!job.location) throw new Error(`export job ${jobId} completed without a download location`);
      return job.location;
    }
    if (job.status === 'failed' || job.status === 'expired' || job.status === 'cancelled')
      throw new Error(
        `export job ${jobId} ${job.status}${job.status_details ? `: ${job.status_details}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Streams the export to disk (never whole in memory); the file appears only once complete. */
export async function downloadExport(
  location: string,
  path: string,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const response = await fetchImpl(location);
  if (!response.ok || !response.body)
    throw new Error(`download of the export failed: HTTP ${response.status}`);
  const partial = `${path}.part`;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      createWriteStream(partial),
    );
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

const MAX_ATTEMPTS = 6;
const PER_PAGE = 50;

/**
 * One user's phone factors through GET /api/v2/users/{id}/authentication-methods, paced by the limiter.
 * 429: counted, paced by the limiter, retried. 5xx and network errors: retried with backoff. 404: the user
 * is gone. Anything else (401, 403 missing scope, 400) stops the run: it would fail for every user.
 */
export async function fetchUserPhones(
  client: ManagementClient,
  limiter: AdaptiveLimiter,
  userId: string,
): Promise<MfaResult> {
  const methods: Management.UserAuthenticationMethod[] = [];
  for (let page = 0; ; page += 1) {
    const result = await fetchPage(client, limiter, userId, page);
    if (result === 'gone') return { phones: undefined, masked: 0, at: Date.now() };
    methods.push(...(result.authenticators ?? []));
    const total = result.total ?? 0;
    if (methods.length >= total || (result.authenticators ?? []).length < PER_PAGE) break;
  }
  return { ...phonesFromMethods(methods), at: Date.now() };
}

async function fetchPage(
  client: ManagementClient,
  limiter: AdaptiveLimiter,
  userId: string,
  page: number,
): Promise<Management.ListUserAuthenticationMethodsOffsetPaginatedResponseContent | 'gone'> {
  for (let attempt = 1; ; attempt += 1) {
    const ticket = await limiter.acquire();
    try {
      const result = await client.users.authenticationMethods.list(
        userId,
        { page, per_page: PER_PAGE, include_totals: true },
        { maxRetries: 0 },
      );
      limiter.settle(ticket, 'ok', readRateLimitHeaders(result.rawResponse.headers));
      return result.response;
    } catch (error) {
      const status = error instanceof ManagementError ? error.statusCode : undefined;
      const headers = error instanceof ManagementError ? error.rawResponse?.headers : undefined;
      if (status === 429) {
        limiter.settle(
          ticket,
          'throttled',
          readRateLimitHeaders(headers),
          readRetryAfter(headers, Date.now()),
        );
        if (attempt < MAX_ATTEMPTS * 4) continue;
      } else if (status === 404) {
        limiter.settle(ticket, 'ok', readRateLimitHeaders(headers));
        return 'gone';
      } else {
        limiter.settle(ticket, 'failed', readRateLimitHeaders(headers));
        const transient = status === undefined || status === 408 || status >= 500;
        if (transient && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)));
          continue;
        }
      }
      throw new Error(`authentication-methods for a user failed: ${describeError(error)}`);
    }
  }
}
