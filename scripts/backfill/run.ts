import { existsSync, mkdirSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createClient } from '@libsql/client';
import type { ManagementClient } from 'auth0';
import {
  type BackfillRun,
  createRun,
  findResumableRun,
  forgetSeen,
  markRun,
  pruneMissingUsers,
} from '../../src/db/backfill.js';
import { createDb, type Db } from '../../src/db/client.js';
import { applyMigrations } from '../../src/db/migrate-node.js';
import type { CliOptions } from './args.js';
import { type Counters, emptyCounters, restoreCounters } from './counters.js';
import { describeError } from './describe-error.js';
import { importExport } from './import.js';
import { MASKED_NUMBERS_WARNING } from './mfa.js';
import { createProgress } from './progress.js';
import { AdaptiveLimiter } from './rate-limiter.js';
import { formatSummary } from './summary.js';

type AuthApi = typeof import('./auth0-api.js');

export interface RunIo {
  out: NodeJS.WritableStream;
  tty: boolean;
  dataDir: string;
  signal?: AbortSignal;
  /** Used for the Management API and the download (tests pass nothing: real fetch on loopback). */
  fetch?: typeof fetch;
}

export interface RunResult {
  status: 'completed' | 'interrupted' | 'failed';
  counters: Counters;
  runId: string;
  reason?: string;
}

/** Opens the same database `npm start` uses (or DATABASE_URL), with migrations applied. */
export async function openIndex(
  options: CliOptions,
  dataDir: string,
): Promise<{ db: Db; close: () => void }> {
  const url = options.databaseUrl ?? `file:${resolve(dataDir, 'callerpop.db')}`;
  if (url.startsWith('file:')) mkdirSync(dataDir, { recursive: true });
  // One connection: the per-connection pragmas below then hold for every batch (the pool would open
  // fresh connections with synchronous=FULL), and the import is sequential anyway.
  const client = createClient({ url, authToken: options.databaseAuthToken, concurrency: 1 });
  if (url.startsWith('file:')) {
    await client.execute('pragma journal_mode = wal');
    await client.execute('pragma busy_timeout = 5000');
    await client.execute('pragma synchronous = normal');
    await client.execute('pragma cache_size = -16384');
  }
  const db = createDb(client);
  await applyMigrations(db);
  return { db, close: () => client.close() };
}

interface Input {
  path: string;
  sourceKey: string;
  source: string;
  snapshotAt: number;
  jobId?: string;
  /** The export covers the whole tenant, so users missing from it are gone. */
  complete: boolean;
}

export async function runBackfill(options: CliOptions, io: RunIo): Promise<RunResult> {
  const started = Date.now();
  const { db, close } = await openIndex(options, io.dataDir);
  const progressMode = options.progress === 'auto' ? (io.tty ? 'bar' : 'lines') : options.progress;
  const progress = createProgress({
    tty: progressMode === 'bar',
    out: io.out,
    quiet: progressMode === 'none',
  });
  const runOptions = { mfa: options.mfa, prune: options.prune };
  // The SDK is large: it is loaded only when Auth0 is actually called (an export job, or --mfa).
  const needsApi = !options.file || options.mfa;
  const api = needsApi ? await import('./auth0-api.js') : undefined;
  const management =
    api && options.auth0.domain && options.auth0.clientId && options.auth0.clientSecret
      ? api.createManagement({
          domain: options.auth0.domain,
          clientId: options.auth0.clientId,
          clientSecret: options.auth0.clientSecret,
          apiBaseUrl: options.auth0.apiBaseUrl,
          fetch: io.fetch,
        })
      : undefined;
  let run: BackfillRun | undefined;
  let counters = emptyCounters();
  let resumedAfterLine = 0;
  let source = options.file ?? `Auth0 export of ${options.auth0.domain}`;
  const finish = (status: RunResult['status'], reason?: string): RunResult => {
    progress.stop();
    io.out.write(
      `${formatSummary({ status, counters, source, elapsedMs: Date.now() - started, dryRun: options.dryRun, prune: options.prune, mfa: options.mfa, resumedAfterLine, reason })}\n`,
    );
    return { status, counters, runId: run?.id ?? '', reason };
  };
  try {
    const input = options.file ? await fileInput(options) : undefined;
    const sourceKey = input?.sourceKey ?? `export:${options.auth0.domain}:${options.connectionId ?? 'all'}`;
    const previous = options.restart || options.dryRun ? undefined : await findResumableRun(db, sourceKey);
    if (previous) {
      const prev = previous.options as { mfa?: boolean; prune?: boolean };
      if (Boolean(prev.mfa) !== options.mfa || Boolean(prev.prune) !== options.prune)
        throw new Error(
          `an unfinished run over this input used ${flags(prev)}; run again with the same flags to resume it, or add --restart to start over`,
        );
      run = previous;
      counters = restoreCounters(previous.counters);
      resumedAfterLine = previous.line;
      progress.note(`Resuming run ${previous.id} after line ${previous.line}.`);
    }
    const resolved = input ?? (await exportInput(options, io, api, management, run, progress.note));
    source = resolved.jobId ? `${resolved.path} (export job ${resolved.jobId})` : resolved.path;
    const now = Date.now();
    run ??= options.dryRun
      ? ({ id: `dry-${crypto.randomUUID()}`, line: 0 } as BackfillRun)
      : await createRun(db, {
          id: crypto.randomUUID(),
          sourceKey,
          source,
          jobId: resolved.jobId ?? null,
          options: runOptions,
          status: 'running',
          snapshotAt: resolved.snapshotAt,
          counters,
          startedAt: now,
          updatedAt: now,
        });
    if (!options.dryRun) await markRun(db, run.id, { status: 'running', now });

    const limiter = new AdaptiveLimiter({ maxConcurrency: options.concurrency, initialConcurrency: 1 });
    let maskedNoted = counters.masked > 0;
    const trackSeen = options.prune && resolved.complete;
    await importExport({
      db,
      path: resolved.path,
      runId: run.id,
      resumeAfterLine: run.line,
      counters,
      batchSize: options.batchSize,
      prune: options.prune,
      trackSeen,
      dryRun: options.dryRun,
      region: options.region,
      snapshotAt: resolved.snapshotAt,
      mfa: options.mfa,
      signal: io.signal,
      fetchPhones:
        options.mfa && management
          ? (userId) => (api as AuthApi).fetchUserPhones(management, limiter, userId)
          : undefined,
      apiStats: () => ({ calls: limiter.stats.sent, throttled: limiter.stats.throttled }),
      onBatch: (c, _line, position) => {
        if (c.masked > 0 && !maskedNoted) {
          maskedNoted = true;
          progress.note(MASKED_NUMBERS_WARNING);
        }
        progress.update(c, position);
      },
    });
    if (io.signal?.aborted) return finish('interrupted');
    if (trackSeen) {
      counters.linksRemoved += await pruneMissingUsers(db, {
        runId: run.id,
        snapshotAt: resolved.snapshotAt,
        dryRun: options.dryRun,
      });
      await forgetSeen(db, run.id);
    }
    if (!options.dryRun) await markRun(db, run.id, { status: 'completed', counters, now: Date.now() });
    return finish('completed');
  } catch (error) {
    // Ctrl-C while waiting for the export job or the download: nothing is lost, the run resumes.
    if (io.signal?.aborted) return finish('interrupted');
    const reason = describeError(error);
    if (run && !options.dryRun)
      await markRun(db, run.id, { status: 'failed', error: reason, now: Date.now() }).catch(() => {});
    return finish('failed', reason);
  } finally {
    close();
  }
}

function flags(o: { mfa?: boolean; prune?: boolean }): string {
  const list = [o.mfa ? '--mfa' : '', o.prune ? '--prune' : ''].filter(Boolean);
  return list.length > 0 ? list.join(' ') : 'neither --mfa nor --prune';
}

async function fileInput(options: CliOptions): Promise<Input> {
  const path = resolve(options.file as string);
  if (!existsSync(path)) throw new Error(`--file ${options.file}: no such file`);
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`--file ${options.file}: not a regular file`);
  const real = await realpath(path);
  return {
    path: real,
    sourceKey: `file:${real}:${info.size}:${Math.floor(info.mtimeMs)}`,
    source: real,
    snapshotAt: options.asOf ?? Math.floor(info.mtimeMs),
    complete: true,
  };
}

/** Creates the export job (or picks up the one an unfinished run created) and downloads it to disk. */
async function exportInput(
  options: CliOptions,
  io: RunIo,
  api: AuthApi | undefined,
  management: ManagementClient | undefined,
  previous: BackfillRun | undefined,
  note: (message: string) => void,
): Promise<Input> {
  if (!api || !management) throw new Error('Auth0 credentials are required to create an export job');
  const workDir = resolve(options.workDir ?? join(io.dataDir, 'backfill'));
  mkdirSync(workDir, { recursive: true });
  let jobId = previous?.jobId ?? undefined;
  let snapshotAt = previous?.snapshotAt ?? Date.now();
  if (!jobId) {
    const job = await api.createExportJob(management, options.connectionId);
    jobId = job.id;
    snapshotAt = job.createdAt;
    note(`Created users export job ${jobId}.`);
  }
  const path = join(workDir, `${jobId}.ndjson.gz`);
  if (!existsSync(path)) {
    let last = '';
    const location = await api.waitForExport(management, jobId, {
      pollMs: options.pollIntervalMs,
      signal: io.signal,
      onStatus: (status, percent) => {
        // Large tenants take minutes: say something when the job moves, not at every poll.
        const line = `Export job ${jobId}: ${status}${percent === undefined ? '' : ` (${percent}%)`}`;
        if (line !== last) note(line);
        last = line;
      },
    });
    await api.downloadExport(location, path, io.fetch);
    note(`Downloaded the export to ${path}.`);
  }
  const sourceKey = `export:${options.auth0.domain}:${options.connectionId ?? 'all'}`;
  return { path, sourceKey, source: path, snapshotAt, jobId, complete: !options.connectionId };
}
