import type { CliOptions } from './cli-args.js';
import { type Counters, emptyCounters, restoreCounters } from './counters.js';
import { describeError } from './describe-error.js';
import { importExport } from './import.js';
import { exportInput, fileInput } from './inputs.js';
import { MASKED_NUMBERS_WARNING } from './mfa.js';
import { openIndex } from './open-index.js';
import { pacingNote, remainingApiTime } from './pacing.js';
import { createProgress } from './progress.js';
import {
  abandonRuns,
  type BackfillRun,
  createRun,
  findResumableRun,
  finishRun,
  markRun,
} from './run-queries.js';
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

export async function runBackfill(options: CliOptions, io: RunIo): Promise<RunResult> {
  const started = Date.now();
  const { db, close } = await openIndex(options, io.dataDir);
  const progressMode = options.progress === 'auto' ? (io.tty ? 'bar' : 'lines') : options.progress;
  // With --mfa the API calls set the pace: the time they still need, at the plan's documented rate.
  const apiEta = (calls: number, fractionRead: number) =>
    options.mfa ? remainingApiTime(options.auth0.plan, calls, fractionRead) : undefined;
  const progress = createProgress({
    tty: progressMode === 'bar',
    out: io.out,
    quiet: progressMode === 'none',
    apiEta,
  });
  const runOptions = { mfa: options.mfa, prune: options.prune, complete: options.complete };
  // The SDK is large: it is loaded only when Auth0 is actually called (an export job, or --mfa).
  const needsApi = !options.file || options.mfa;
  const api = needsApi ? await import('./auth0-api.js') : undefined;
  // One client and one limiter for every call of the run (export job, polls, authentication methods).
  const management =
    api && options.auth0.domain && options.auth0.clientId && options.auth0.clientSecret
      ? api.createBackfillApi({
          domain: options.auth0.domain,
          clientId: options.auth0.clientId,
          clientSecret: options.auth0.clientSecret,
          apiBaseUrl: options.auth0.apiBaseUrl,
          plan: options.auth0.plan,
          fetch: io.fetch ?? globalThis.fetch.bind(globalThis),
          maxConcurrency: options.concurrency,
          // A run lasts hours: a bucket shared with another process may refuse a request several times.
          maxThrottled: 50,
        })
      : undefined;
  let run: BackfillRun | undefined;
  let counters = emptyCounters();
  let resumedAfterLine = 0;
  let source = options.file ?? `Auth0 export of ${options.auth0.domain}`;
  const finish = (status: RunResult['status'], reason?: string): RunResult => {
    progress.stop();
    io.out.write(
      `${formatSummary({ status, counters, source, elapsedMs: Date.now() - started, dryRun: options.dryRun, prune: options.prune, mfa: options.mfa, plan: options.auth0.plan, resumedAfterLine, reason })}\n`,
    );
    return { status, counters, runId: run?.id ?? '', reason };
  };
  try {
    const input = options.file ? await fileInput(options) : undefined;
    const sourceKey = input?.sourceKey ?? `export:${options.auth0.domain}:${options.connectionId ?? 'all'}`;
    if (options.restart && !options.dryRun) {
      // Closed for good, so no later run resumes it (or its old export job).
      const abandoned = await abandonRuns(db, sourceKey, Date.now());
      for (const id of abandoned) progress.note(`Abandoned unfinished run ${id}.`);
    }
    const previous = options.restart || options.dryRun ? undefined : await findResumableRun(db, sourceKey);
    if (previous) {
      const prev = previous.options as RunFlags;
      if (
        Boolean(prev.mfa) !== options.mfa ||
        Boolean(prev.prune) !== options.prune ||
        Boolean(prev.complete) !== options.complete
      )
        throw new Error(
          `an unfinished run over this input used ${flags(prev)}; run again with the same flags to resume it, or add --restart to start over`,
        );
      if (input && input.snapshotAt !== previous.snapshotAt)
        throw new Error(
          `an unfinished run over this input is dated ${new Date(previous.snapshotAt).toISOString()}; resume it with that --as-of, or add --restart to start over`,
        );
      run = previous;
      counters = restoreCounters(previous.counters);
      resumedAfterLine = previous.line;
      progress.note(`Resuming run ${previous.id} after line ${previous.line}.`);
    }
    const create = async (where: { source: string; jobId?: string; snapshotAt: number }) => {
      const now = Date.now();
      run ??= options.dryRun
        ? // Its start time in the id: retention forgets the seen users of a dry run a day after it began.
          ({ id: `dry-${now}-${crypto.randomUUID()}`, line: 0 } as BackfillRun)
        : await createRun(db, {
            id: crypto.randomUUID(),
            sourceKey,
            source: where.source,
            jobId: where.jobId ?? null,
            options: runOptions,
            status: 'running',
            snapshotAt: where.snapshotAt,
            counters,
            startedAt: now,
            updatedAt: now,
          });
      return run;
    };
    const resolved =
      input ??
      (await exportInput(options, io, api, management, run, progress.note, (job) =>
        create({ source: job.path, jobId: job.jobId, snapshotAt: job.snapshotAt }).then(() => {}),
      ));
    source = resolved.jobId ? `${resolved.path} (export job ${resolved.jobId})` : resolved.path;
    const now = Date.now();
    run = await create({ source: resolved.source, jobId: resolved.jobId, snapshotAt: resolved.snapshotAt });
    if (!options.dryRun) await markRun(db, run.id, { status: 'running', now });

    if (options.mfa) progress.note(pacingNote(options.auth0.plan));
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
          ? (userId) => (api as AuthApi).fetchUserPhones(management, userId)
          : undefined,
      apiStats: () => ({ calls: management?.tally.calls ?? 0, throttled: management?.tally.throttled ?? 0 }),
      onBatch: (c, _line, position) => {
        if (c.masked > 0 && !maskedNoted) {
          maskedNoted = true;
          progress.note(MASKED_NUMBERS_WARNING);
        }
        progress.update(c, position);
      },
    });
    if (io.signal?.aborted) return finish('interrupted');
    if (counters.users === 0 && counters.malformed > 0) throw new Error(UNREADABLE_FILE);
    // An export with no users at all is not evidence that every user is gone.
    const pruneMissing = trackSeen && counters.users > 0;
    if (trackSeen && !pruneMissing)
      progress.note('No users in the export: links of missing users are not pruned.');
    await finishRun(db, {
      runId: run.id,
      snapshotAt: resolved.snapshotAt,
      pruneMissing,
      dryRun: options.dryRun,
      counters: (removed) => {
        counters.linksRemoved += removed;
        return counters;
      },
      now: Date.now(),
    });
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

/** Lines were read and none was a user: most likely a pretty-printed JSON array, not Auth0's export format. */
const UNREADABLE_FILE =
  'no user could be read from the export: every line was malformed. The file must hold one user per line ' +
  "(NDJSON, or a JSON array with one element per line, as Auth0's export writes it); convert a " +
  "pretty-printed array with: jq -c '.[]' users.json > users.ndjson";

type RunFlags = { mfa?: boolean; prune?: boolean; complete?: boolean };

function flags(o: RunFlags): string {
  const list = [o.mfa ? '--mfa' : '', o.prune ? '--prune' : '', o.complete ? '--complete' : ''].filter(
    Boolean,
  );
  return list.length > 0 ? list.join(' ') : 'neither --mfa nor --prune';
}
