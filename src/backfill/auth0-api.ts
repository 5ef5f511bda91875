import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Management } from 'auth0';
import { JobsClient } from 'auth0/jobs';
import { UsersExportsClient } from 'auth0/jobs/usersExports';
import { AuthenticationMethodsClient } from 'auth0/users/authenticationMethods';
import {
  createManagementApi,
  httpStatusOf,
  type ManagementApi,
  type ManagementSettings,
} from '../auth0-api/index.js';
import { describeError } from './describe-error.js';
import { type MfaResult, phonesFromMethods } from './mfa.js';

/**
 * The backfill's calls, through the shared Management API client (src/auth0-api): one token, one rate
 * limiter for every call of the run; the SDK's per-resource clients for exports, jobs and authentication
 * methods. A 429 is waited out inside the limiter's fetch; what reaches this file is every other answer.
 */
export interface BackfillApi {
  api: ManagementApi;
  jobs: JobsClient;
  exports: UsersExportsClient;
  methods: AuthenticationMethodsClient;
  /** authentication-methods requests sent (each retry too) and 429s among them: the summary's MFA line. */
  tally: { calls: number; throttled: number };
}

export function createBackfillApi(settings: ManagementSettings): BackfillApi {
  const tally = { calls: 0, throttled: 0 };
  const network = settings.fetch;
  // Beneath the limiter: every attempt it lets through, retries of 429s included.
  const counting: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const methods = /\/authentication-methods(\?|$)/.test(url);
    if (methods) tally.calls += 1;
    const response = await network(input, init);
    if (methods && response.status === 429) tally.throttled += 1;
    return response;
  };
  const api = createManagementApi({ ...settings, fetch: counting });
  return {
    api,
    jobs: new JobsClient(api.clientOptions),
    exports: new UsersExportsClient(api.clientOptions),
    methods: new AuthenticationMethodsClient(api.clientOptions),
    tally,
  };
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

export async function createExportJob(client: BackfillApi, connectionId?: string): Promise<ExportJob> {
  const job = await client.exports.create({
    format: 'json',
    fields: EXPORT_FIELDS,
    ...(connectionId ? { connection_id: connectionId } : {}),
  });
  const createdAt = job.created_at ? Date.parse(job.created_at) : Number.NaN;
  return { id: job.id, createdAt: Number.isNaN(createdAt) ? Date.now() : createdAt };
}

/** Polls the job until Auth0 gives the download location; a failed or expired job is an error. */
export async function waitForExport(
  client: BackfillApi,
  jobId: string,
  options: { pollMs: number; onStatus?: (status: string, percent?: number) => void; signal?: AbortSignal },
): Promise<string> {
  for (;;) {
    options.signal?.throwIfAborted();
    const job = await client.jobs.get(jobId);
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
 * One user's phone factors through GET /api/v2/users/{id}/authentication-methods. 429s are waited out by the
 * shared limiter before anything reaches here. 5xx and network errors: retried with backoff. 404: the user
 * is gone. Anything else (401, 403 missing scope, 400, a 429 Auth0 kept sending) stops the run: it would fail
 * for every user.
 */
export async function fetchUserPhones(client: BackfillApi, userId: string): Promise<MfaResult> {
  const methods: Management.UserAuthenticationMethod[] = [];
  for (let page = 0; ; page += 1) {
    const result = await fetchPage(client, userId, page);
    if (result === 'gone') return { phones: undefined, masked: 0, at: Date.now() };
    methods.push(...(result.authenticators ?? []));
    const total = result.total ?? 0;
    if (methods.length >= total || (result.authenticators ?? []).length < PER_PAGE) break;
  }
  return { ...phonesFromMethods(methods), at: Date.now() };
}

async function fetchPage(
  client: BackfillApi,
  userId: string,
  page: number,
): Promise<Management.ListUserAuthenticationMethodsOffsetPaginatedResponseContent | 'gone'> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await client.methods.list(userId, { page, per_page: PER_PAGE, include_totals: true });
      return result.response;
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404) return 'gone';
      const transient = status === undefined || status === 408 || status >= 500;
      if (transient && attempt < MAX_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)));
        continue;
      }
      throw new Error(`authentication-methods for a user failed: ${describeError(error)}`);
    }
  }
}
