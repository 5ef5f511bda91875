import { commitBatch, type PreparedUser } from '../../src/db/backfill.js';
import type { Db } from '../../src/db/client.js';
import { addSample, type Counters } from './counters.js';
import { openExport, readLines } from './lines.js';
import type { MfaResult } from './mfa.js';
import { type PrepareContext, prepareUser } from './prepare.js';
import { type ExportUser, parseLine } from './record.js';

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
  /** API calls and 429s so far, folded into the counters at each checkpoint. */
  apiStats?: () => { calls: number; throttled: number };
  onBatch?: (counters: Counters, line: number, position: { read: number; size: number }) => void;
  signal?: AbortSignal;
}

interface Pending {
  line: number;
  user: ExportUser;
  mfa?: Promise<MfaResult>;
}

interface Batch {
  items: Pending[];
  lastLine: number;
  /** Counters for lines of this batch that are not users (malformed), applied when the batch commits. */
  malformed: { line: number; reason: string }[];
  lines: number;
  mfaCalls: number;
}

/** With --mfa, several batches fetch at once so the API stays busy while earlier batches commit in order. */
const BATCHES_IN_FLIGHT = 4;
const MFA_PER_BATCH = 100;

/**
 * Streams the export into the index: lines → users → (phone factors) → batches of whole users, each
 * committed with the checkpoint in one transaction, in file order.
 */
export async function importExport(options: ImportOptions): Promise<void> {
  const { counters } = options;
  const input = await openExport(options.path);
  const apiBase = { calls: counters.apiCalls, throttled: counters.throttled };
  const queue: Batch[] = [];
  const newBatch = (): Batch => ({ items: [], lastLine: 0, malformed: [], lines: 0, mfaCalls: 0 });
  let batch = newBatch();

  const commit = async (b: Batch) => {
    const results = await Promise.all(b.items.map((p) => p.mfa));
    counters.lines += b.lines;
    counters.malformed += b.malformed.length;
    for (const m of b.malformed) addSample(counters.malformedLines, m.line, m.reason);
    const users: PreparedUser[] = b.items.map((p, i) =>
      prepareUser(p.user, results[i], p.line, options, counters),
    );
    counters.users += users.length;
    const stats = options.apiStats?.();
    if (stats) {
      counters.apiCalls = apiBase.calls + stats.calls;
      counters.throttled = apiBase.throttled + stats.throttled;
    }
    const changes = await commitBatch(options.db, {
      runId: options.runId,
      line: b.lastLine,
      counters,
      users,
      prune: options.prune,
      trackSeen: options.trackSeen,
      dryRun: options.dryRun,
      now: Date.now(),
    });
    counters.linksAdded += changes.added;
    counters.linksUpdated += changes.updated;
    counters.linksRemoved += changes.removed;
    counters.linksStale += changes.stale;
    options.onBatch?.(counters, b.lastLine, { read: input.position(), size: input.size });
  };

  const flush = async () => {
    if (batch.lines === 0) return;
    queue.push(batch);
    batch = newBatch();
    const limit = options.fetchPhones ? BATCHES_IN_FLIGHT : 1;
    while (queue.length >= limit) await commit(queue.shift() as Batch);
  };

  try {
    for await (const line of readLines(input.stream)) {
      if (line.number <= options.resumeAfterLine) continue;
      if (options.signal?.aborted) break;
      batch.lines += 1;
      batch.lastLine = line.number;
      const outcomes = line.tooLong
        ? [{ kind: 'malformed' as const, reason: 'line longer than 1 MiB' }]
        : parseLine(line.text);
      for (const outcome of outcomes) {
        if (outcome.kind === 'malformed') {
          batch.malformed.push({ line: line.number, reason: outcome.reason });
          continue;
        }
        const pending: Pending = { line: line.number, user: outcome.user };
        if (options.fetchPhones && outcome.user.mayHavePhoneFactor) {
          pending.mfa = options.fetchPhones(outcome.user.userId);
          // Failures surface when the batch commits; until then they must not count as unhandled.
          pending.mfa.catch(() => {});
          batch.mfaCalls += 1;
        }
        batch.items.push(pending);
      }
      if (batch.items.length >= options.batchSize || batch.mfaCalls >= MFA_PER_BATCH) await flush();
    }
    await flush();
    while (queue.length > 0) await commit(queue.shift() as Batch);
  } finally {
    queue.length = 0;
    input.stream.destroy();
  }
}
