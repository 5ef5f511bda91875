import type { LogReader } from '../auth0-api/index.js';
import { describeManagementError } from '../auth0-api/index.js';
import type { Db } from '../db/client.js';
import type { AppDeps } from '../deps.js';
import { moveFeedCursor, readFeedCursor, recordFeedRun } from './cursor-queries.js';
import { ingestLogEvents, type LogDeps, type LogStreamSummary } from './log-stream.js';

/**
 * The Auth0 log catch-up: whatever the Log Stream missed (a stream paused or disabled after days of errors,
 * events Auth0 gave up on) is read back from `GET /api/v2/logs` by checkpoint and applied through the same
 * path as the stream, de-duplicated by log_id, so it is applied late, never lost, never twice. The index's
 * writes are ordered by each event's own time, so an event applied late never overwrites a newer fact.
 *
 * The cursor is the last applied log_id, in feed_cursors; it moves only after its page is applied, so a run
 * that stops between pages resumes there. A run reads at most `maxPages` pages.
 *
 * First run, no cursor: it starts at the newest event and applies nothing older (the stream and the backfill
 * are what filled the index until then; replaying a tenant's whole retention into it would be a backfill).
 * To replay from an earlier point, a run is given `from`: a log_id (the dashboard's Logs page, a held item,
 * a SIEM) after which every event is applied.
 */

export const LOG_CURSOR = 'auth0-logs';
/** OAS `take`: "Default `50`, max `100`". */
export const LOG_PAGE_SIZE = 100;

export type CatchUpStatus =
  /** No cursor was set: it is now the newest event, nothing applied. */
  | 'started'
  /** The tenant has no event to start from yet. */
  | 'empty'
  | 'caught_up'
  /** `maxPages` read, more to come: the next run goes on. */
  | 'more'
  /** Another run moved the cursor meanwhile: this one stopped. */
  | 'superseded'
  | 'failed';

export interface CatchUpRun extends LogStreamSummary {
  trigger: string;
  status: CatchUpStatus;
  startedAt: number;
  finishedAt: number;
  /** The cursor the run started after, and where it left it. */
  from: string | null;
  to: string | null;
  pages: number;
  error?: string;
}

export interface CatchUpOptions {
  trigger: string;
  maxPages: number;
  /** Start after this log_id instead of the stored cursor (a replay). */
  from?: string;
}

export async function catchUpLogs(
  deps: LogDeps,
  reader: LogReader,
  options: CatchUpOptions,
): Promise<CatchUpRun> {
  const stored = (await readFeedCursor(deps.db, LOG_CURSOR))?.value ?? null;
  const start = options.from ?? stored;
  const run: CatchUpRun = {
    trigger: options.trigger,
    status: 'caught_up',
    startedAt: deps.now(),
    finishedAt: 0,
    from: start,
    to: stored,
    pages: 0,
    received: 0,
    applied: 0,
    duplicates: 0,
    ignored: 0,
    held: 0,
  };
  // What the stored value is now: the cursor moves only from there.
  let expected = stored;
  try {
    if (start === null) {
      const newest = await reader.newest();
      if (newest === undefined) run.status = 'empty';
      else if (await moveFeedCursor(deps.db, LOG_CURSOR, expected, newest, deps.now())) {
        run.status = 'started';
        run.to = newest;
      } else run.status = 'superseded';
      return await finish(deps, run);
    }
    for (let cursor = start; ; ) {
      if (run.pages >= options.maxPages) {
        run.status = 'more';
        break;
      }
      const items = await reader.after(cursor, LOG_PAGE_SIZE);
      if (items.length === 0) break;
      const summary = await ingestLogEvents(deps, items, { origin: 'catch-up' });
      for (const key of ['received', 'applied', 'duplicates', 'ignored', 'held'] as const)
        run[key] += summary[key];
      const last = highestLogId(items);
      if (last === undefined || compareLogIds(last, cursor) <= 0)
        throw new Error('GET /api/v2/logs answered a page that does not move past the cursor');
      if (!(await moveFeedCursor(deps.db, LOG_CURSOR, expected, last, deps.now()))) {
        run.status = 'superseded';
        break;
      }
      run.pages += 1;
      run.to = cursor = expected = last;
      if (items.length < LOG_PAGE_SIZE) break;
    }
  } catch (error) {
    run.status = 'failed';
    run.error = describeManagementError(error, 'read:logs');
    deps.logger.error('auth0 log catch-up failed', { trigger: run.trigger, error: run.error });
  }
  return finish(deps, run);
}

async function finish(deps: LogDeps, run: CatchUpRun): Promise<CatchUpRun> {
  run.finishedAt = deps.now();
  await recordFeedRun(deps.db, LOG_CURSOR, run, run.finishedAt);
  deps.logger.info('auth0 log catch-up', { ...run });
  return run;
}

/** Log ids are long digit strings (ordered by number); anything else compares as text. */
export function compareLogIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function highestLogId(items: readonly unknown[]): string | undefined {
  let highest: string | undefined;
  for (const item of items) {
    const id = (item as { log_id?: unknown } | null)?.log_id;
    if (typeof id === 'string' && id !== '' && (highest === undefined || compareLogIds(id, highest) > 0))
      highest = id;
  }
  return highest;
}

/** What GET /api/auth0/log-catch-up shows: the cursor and the last run. */
export async function logCatchUpStatus(db: Db) {
  const cursor = await readFeedCursor(db, LOG_CURSOR);
  return {
    cursor: cursor?.value ?? null,
    updatedAt: cursor?.updatedAt ?? null,
    lastRun: cursor?.lastRun ?? null,
  };
}

/** What applying log events needs, from the app's dependencies. */
export function logDepsOf(deps: AppDeps): LogDeps {
  return {
    db: deps.db,
    logger: deps.logger,
    now: deps.now,
    newId: deps.newId,
    region: deps.config.DEFAULT_REGION,
  };
}

/** One run at a time per process: the Node timer, the cron and on-demand requests share it. */
export interface LogCatchUp {
  run(options: { trigger: string; from?: string; maxPages?: number }): Promise<CatchUpRun | 'busy'>;
}

export function createLogCatchUp(
  deps: LogDeps,
  reader: LogReader,
  defaults: { maxPages: number },
): LogCatchUp {
  let running: Promise<CatchUpRun> | undefined;
  return {
    async run(options) {
      if (running) return 'busy';
      running = catchUpLogs(deps, reader, { ...options, maxPages: options.maxPages ?? defaults.maxPages });
      try {
        return await running;
      } finally {
        running = undefined;
      }
    },
  };
}
