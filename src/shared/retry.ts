import { sleep } from './deadline.js';
import { describeError, type Logger } from './logger.js';

/**
 * The one retry policy: which failures are worth retrying (the database, not the statement), how a locked
 * database is waited out, and how work that answered without the database keeps trying in the background,
 * within a bounded budget, on a schedule cut to what the runtime allows.
 */

/** SQLITE_BUSY (or a variant such as SQLITE_BUSY_SNAPSHOT), however deep the driver wrapped it. */
export function isDatabaseBusy(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** SQLite's codes for a database that cannot be used right now (as opposed to a statement that is wrong). */
const UNAVAILABLE_SQLITE =
  /^SQLITE_(BUSY|LOCKED|FULL|READONLY|IOERR|CANTOPEN|NOMEM|INTERRUPT|PROTOCOL|NOTADB|CORRUPT)/;
/** @libsql/client's codes for a remote database that did not answer (hrana.js mapHranaErrorCode). */
const UNAVAILABLE_LIBSQL: ReadonlySet<string> = new Set([
  'SERVER_ERROR',
  'HRANA_PROTO_ERROR',
  'HRANA_CLOSED_ERROR',
  'HRANA_WEBSOCKET_ERROR',
  'CLIENT_CLOSED',
  'TRANSACTION_CLOSED',
  'INTERNAL_ERROR',
]);
const UNAVAILABLE_NETWORK = /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|UND_ERR_)/;

/**
 * The database (or the way to it) failed, not the statement: busy, full, read-only, unreachable. Work that
 * fails this way is worth retrying later; work that fails any other way fails for what it is.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_SQLITE.test(code) || UNAVAILABLE_LIBSQL.has(code) || UNAVAILABLE_NETWORK.test(code))
    )
      return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    if (message === 'fetch failed' || message === 'Network connection lost.') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Pauses between tries of a write that found the database locked: about 2.5 s in all. */
const BUSY_PAUSES_MS = [5, 10, 20, 40, 80, 160, 320, 500, 500, 500];

/**
 * Another writer holds the lock: the write (one transaction, so nothing of it stayed) is tried again after a
 * pause, without blocking the event loop meanwhile; past the last pause the error goes up.
 */
export async function retryingBusy<T>(write: () => Promise<T>): Promise<T> {
  for (const pause of BUSY_PAUSES_MS) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseBusy(err)) throw err;
      await sleep(pause);
    }
  }
  return write();
}

/** Background retries after a failed write: about two minutes in all, then the work is given up. */
export const RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000];
/** Work retried at once per budget: beyond it, new work is given up at once (and logged). */
const BUDGET_SIZE = 1000;

/** What a retry logs, and what it loses when it gives up. */
export interface RetryMessages {
  afterDeadline: string;
  afterRetry: string;
  gaveUp: string;
}

export interface Unfinished {
  /** The message logged if it is given up (for a shutdown that stops it). */
  gaveUp: string;
  /** Its log context: SIDs, masked numbers. */
  context: Record<string, unknown>;
}

/**
 * The retries of one set of deps: separate budgets per kind of work (so callbacks for calls that never get
 * recorded cannot use up the slots the calls' own retries need), and what is still under way, for a
 * shutdown to say what it leaves unfinished.
 */
export interface Retries {
  /** True (and counted) when `kind` has room for one more retry; `release` gives it back. */
  take(kind: string): boolean;
  release(kind: string): void;
  readonly unfinished: ReadonlySet<Unfinished>;
  track(entry: Unfinished): () => void;
}

export function createRetries(size = BUDGET_SIZE): Retries {
  const pending = new Map<string, number>();
  const unfinished = new Set<Unfinished>();
  return {
    take(kind) {
      const n = pending.get(kind) ?? 0;
      if (n >= size) return false;
      pending.set(kind, n + 1);
      return true;
    },
    release(kind) {
      pending.set(kind, Math.max(0, (pending.get(kind) ?? 1) - 1));
    },
    unfinished,
    track(entry) {
      unfinished.add(entry);
      return () => unfinished.delete(entry);
    },
  };
}

export interface RetryDeps {
  logger: Logger;
  retries: Retries;
  /** Where the runtime cuts background work off (Workers: waitUntil), in ms after the response. */
  backgroundBudgetMs?: number;
}

/**
 * Keeps trying work that was answered without: `first` is the attempt already under way, `retry` is called
 * after each delay until it resolves. Refused at once (logged as given up) when the kind's budget is full.
 * Where the runtime cuts background work off, the schedule ends inside that budget, with a last try at its
 * end rather than a sleep the runtime would cancel silently.
 */
export async function retryInBackground(
  deps: RetryDeps,
  work: {
    kind: string;
    first: Promise<unknown>;
    retry: () => Promise<unknown>;
    context: Record<string, unknown>;
    messages: RetryMessages;
    delays?: readonly number[];
  },
): Promise<void> {
  const { context, messages } = work;
  if (!deps.retries.take(work.kind)) {
    work.first.catch(() => {});
    deps.logger.error(`${messages.gaveUp} (too many pending during the outage)`, context);
    return;
  }
  const untrack = deps.retries.track({ gaveUp: messages.gaveUp, context });
  const budget = deps.backgroundBudgetMs;
  const started = Date.now();
  try {
    let lastError: unknown;
    try {
      await work.first;
      deps.logger.info(messages.afterDeadline, context);
      return;
    } catch (err) {
      lastError = err;
    }
    for (const delay of work.delays ?? RETRY_DELAYS_MS) {
      const left = budget === undefined ? delay : budget - (Date.now() - started);
      if (left <= 0) break;
      await sleep(Math.min(delay, left));
      try {
        await work.retry();
        deps.logger.info(messages.afterRetry, context);
        return;
      } catch (err) {
        lastError = err;
      }
    }
    deps.logger.error(messages.gaveUp, {
      ...context,
      error: describeError(lastError),
      triedForMs: Date.now() - started,
      ...(budget === undefined ? {} : { backgroundBudgetMs: budget }),
    });
  } finally {
    deps.retries.release(work.kind);
    untrack();
  }
}
