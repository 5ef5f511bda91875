import { existsSync, mkdirSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BackfillApi } from './auth0-api.js';
import type { CliOptions } from './cli-args.js';
import type { BackfillRun } from './run-queries.js';

type AuthApi = typeof import('./auth0-api.js');

/** Where the users come from: a file given with --file, or a users export job downloaded to disk. */
export interface Input {
  path: string;
  sourceKey: string;
  source: string;
  snapshotAt: number;
  jobId?: string;
  /** The export covers the whole tenant, so users missing from it are gone. */
  complete: boolean;
}

export async function fileInput(options: CliOptions): Promise<Input> {
  const path = resolve(options.file as string);
  if (!existsSync(path)) throw new Error(`--file ${options.file}: no such file`);
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`--file ${options.file}: not a regular file`);
  const real = await realpath(path);
  return {
    path: real,
    sourceKey: `file:${real}:${info.size}:${Math.floor(info.mtimeMs)}`,
    source: real,
    // parseCli requires --as-of with --prune: the mtime (a copy's time, later than the export) only dates
    // users without updated_at when nothing is pruned.
    snapshotAt: options.asOf ?? Math.floor(info.mtimeMs),
    // Only the operator knows a file is a whole-tenant export (a one-connection export looks the same).
    complete: options.complete,
  };
}

/** Creates the export job (or picks up the one an unfinished run created) and downloads it to disk. */
export async function exportInput(
  options: CliOptions,
  io: { dataDir: string; signal?: AbortSignal; fetch?: typeof fetch },
  api: AuthApi | undefined,
  management: BackfillApi | undefined,
  previous: BackfillRun | undefined,
  note: (message: string) => void,
  /** Called as soon as Auth0 accepted the job, so a run stopped while it waits resumes the same job. */
  onJob: (job: { jobId: string; snapshotAt: number; path: string }) => Promise<void>,
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
    await onJob({ jobId, snapshotAt, path: join(workDir, `${jobId}.ndjson.gz`) });
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
