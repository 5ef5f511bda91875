import { Worker } from 'node:worker_threads';
import type { Db } from '../db/client.js';
import { addSample, type Counters } from './counters.js';
import type { MfaResult } from './mfa.js';
import type { ParseJob, WireBatch, WorkerMessage } from './parse-worker.js';
import { completeUser, type PrepareContext } from './prepare.js';
import { type BatchChanges, commitBatch } from './queries.js';

export interface ImportOptions extends PrepareContext {
  db: Db;
  path: string;
  runId: string;
  /** Lines up to this one are already committed: skipped without being parsed. */
  resumeAfterLine: number;
  counters: Counters;
  batchSize: number;
  prune: boolean;
  trackSeen: boolean;
  dryRun: boolean;
  /** Set with --mfa: asks Auth0 for one user's phone factors (paced by the caller's limiter). */
  fetchPhones?: (userId: string) => Promise<MfaResult>;
  /** API calls and 429s so far in this process, folded into the counters at each checkpoint. */
  apiStats?: () => { calls: number; throttled: number };
  onBatch?: (counters: Counters, line: number, position: { read: number; size: number }) => void;
  signal?: AbortSignal;
}

/** With --mfa, several batches fetch at once so the API stays busy while earlier batches commit in order. */
const BATCHES_IN_FLIGHT = 4;
const MFA_PER_BATCH = 100;

/**
 * The worker is TypeScript too. Whatever started this process (tsx, vitest, the bench), the worker
 * registers tsx's loader itself before importing it, so it loads the same way everywhere.
 */
const WORKER_ENTRY = new URL('./parse-worker.ts', import.meta.url).href;
const WORKER_BOOT = `
  const { workerData } = require('node:worker_threads');
  import('tsx/esm/api').then(({ tsImport }) => tsImport(workerData.entry, workerData.entry));
`;

interface InFlight {
  batch: WireBatch;
  mfa: (Promise<MfaResult> | undefined)[];
}

/**
 * Streams the export into the index: the parse worker turns lines into batches of whole users; here their
 * phone factors are fetched (with --mfa) and each batch is committed with its checkpoint, in file order.
 */
export async function importExport(options: ImportOptions): Promise<void> {
  const { counters } = options;
  const apiBase = { calls: counters.apiCalls, throttled: counters.throttled };
  const job: ParseJob = {
    path: options.path,
    resumeAfterLine: options.resumeAfterLine,
    region: options.region,
    snapshotAt: options.snapshotAt,
    batchSize: options.batchSize,
    mfaPerBatch: options.fetchPhones ? MFA_PER_BATCH : undefined,
    ahead: options.fetchPhones ? BATCHES_IN_FLIGHT : 2,
  };
  const worker = new Worker(WORKER_BOOT, {
    eval: true,
    workerData: { job, entry: WORKER_ENTRY },
    resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
  });
  const messages = channel<WorkerMessage>();
  worker.on('message', (m: WorkerMessage) => messages.push(m));
  worker.on('error', (e) => messages.push({ type: 'error', message: e.message }));
  worker.on('exit', (code) =>
    messages.push(code === 0 ? { type: 'end' } : { type: 'error', message: `parser exited with ${code}` }),
  );
  const onAbort = () => worker.postMessage({ type: 'stop' });
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const commit = async ({ batch, mfa }: InFlight) => {
    const results = await Promise.all(mfa);
    counters.lines += batch.lines;
    counters.malformed += batch.malformed.length;
    for (const m of batch.malformed) addSample(counters.malformedLines, m.line, m.reason);
    const users = batch.users.map((u, i) => completeUser(u, results[i], options, batch.problems, counters));
    counters.invalidNumbers += batch.problems.invalidNumbers;
    for (const p of batch.problems.invalidLines) addSample(counters.invalidLines, p.line, p.reason);
    counters.users += users.length;
    const stats = options.apiStats?.();
    if (stats) {
      counters.apiCalls = apiBase.calls + stats.calls;
      counters.throttled = apiBase.throttled + stats.throttled;
    }
    const apply = (changes: BatchChanges) => {
      counters.linksAdded += changes.added;
      counters.linksUpdated += changes.updated;
      counters.linksRemoved += changes.removed;
      counters.linksStale += changes.stale;
      return counters;
    };
    await commitBatch(options.db, {
      runId: options.runId,
      line: batch.lastLine,
      counters: apply,
      users,
      prune: options.prune,
      trackSeen: options.trackSeen,
      dryRun: options.dryRun,
      now: Date.now(),
    });
    options.onBatch?.(counters, batch.lastLine, batch.position);
  };

  const queue: InFlight[] = [];
  try {
    for (;;) {
      const message = await messages.next();
      if (message.type === 'error') throw new Error(`reading the export failed: ${message.message}`);
      if (message.type === 'end') break;
      worker.postMessage({ type: 'take' });
      const { batch } = message;
      const mfa = batch.users.map((u) => {
        if (!options.fetchPhones || !u.mayHavePhoneFactor) return undefined;
        const p = options.fetchPhones(u.account.userId);
        // Failures surface when the batch commits; until then they must not count as unhandled.
        p.catch(() => {});
        return p;
      });
      queue.push({ batch, mfa });
      while (queue.length >= (options.fetchPhones ? BATCHES_IN_FLIGHT : 1))
        await commit(queue.shift() as InFlight);
      if (options.signal?.aborted) break;
    }
    while (queue.length > 0) await commit(queue.shift() as InFlight);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

/** A queue the worker's messages go into and the import loop awaits, one message at a time. */
function channel<T>() {
  const items: T[] = [];
  let waiter: ((v: T) => void) | undefined;
  return {
    push(item: T) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(item);
      } else items.push(item);
    },
    next(): Promise<T> {
      const item = items.shift();
      if (item !== undefined) return Promise.resolve(item);
      return new Promise((resolve) => (waiter = resolve));
    },
  };
}
