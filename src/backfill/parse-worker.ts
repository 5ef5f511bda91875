/**
 * Runs beside the main thread: reads, gunzips, parses and normalizes the export, and hands over batches of
 * whole users while the main thread writes earlier ones. Normalization and JSON parsing cost about as
 * much CPU as SQLite does, so on two cores the import takes the time of the slower half, not the sum.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openExport, readLines } from './lines.js';
import { createNumberMemo, type Problems, prepareExportUser, type WireUser } from './prepare.js';
import { parseLine } from './record.js';

export interface ParseJob {
  path: string;
  resumeAfterLine: number;
  region: string;
  snapshotAt: number;
  batchSize: number;
  /** Cut batches at this many phone-factor candidates too (with --mfa), so checkpoints keep coming. */
  mfaPerBatch: number | undefined;
  /** Batches handed over but not yet taken by the main thread: memory stays bounded. */
  ahead: number;
}

export interface WireBatch {
  lastLine: number;
  lines: number;
  malformed: { line: number; reason: string }[];
  problems: Problems;
  users: WireUser[];
  position: { read: number; size: number };
}

export type WorkerMessage =
  | { type: 'batch'; batch: WireBatch }
  | { type: 'end' }
  | { type: 'error'; message: string };

const job = (workerData as { job: ParseJob }).job;
const memo = createNumberMemo();
const port = parentPort;
if (!port) throw new Error('parse-worker must run in a worker thread');

let credit = job.ahead;
let wake: (() => void) | undefined;
let stopped = false;
port.on('message', (m: { type: 'take' | 'stop' }) => {
  if (m.type === 'stop') stopped = true;
  else credit += 1;
  wake?.();
});

async function main() {
  const input = await openExport(job.path);
  const fresh = (): WireBatch => ({
    lastLine: 0,
    lines: 0,
    malformed: [],
    problems: { invalidNumbers: 0, invalidLines: [] },
    users: [],
    position: { read: 0, size: input.size },
  });
  let batch = fresh();
  let candidates = 0;
  const send = async () => {
    if (batch.lines === 0) return;
    while (credit <= 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
    if (stopped) return;
    credit -= 1;
    batch.position.read = input.position();
    port?.postMessage({ type: 'batch', batch } satisfies WorkerMessage);
    batch = fresh();
    candidates = 0;
  };
  for await (const line of readLines(input.stream)) {
    if (stopped) break;
    if (line.number <= job.resumeAfterLine) continue;
    batch.lines += 1;
    batch.lastLine = line.number;
    const outcomes = line.tooLong
      ? [{ kind: 'malformed' as const, reason: 'line longer than 1 MiB' }]
      : parseLine(line.text);
    for (const o of outcomes) {
      if (o.kind === 'malformed') {
        batch.malformed.push({ line: line.number, reason: o.reason });
        continue;
      }
      batch.users.push(prepareExportUser(o.user, line.number, { ...job, memo }, batch.problems));
      if (o.user.mayHavePhoneFactor) candidates += 1;
    }
    if (
      batch.users.length >= job.batchSize ||
      (job.mfaPerBatch !== undefined && candidates >= job.mfaPerBatch)
    )
      await send();
  }
  await send();
  input.stream.destroy();
  port?.postMessage({ type: 'end' } satisfies WorkerMessage);
}

main().catch((error: unknown) => {
  port.postMessage({
    type: 'error',
    message: error instanceof Error ? error.message : String(error),
  } satisfies WorkerMessage);
});
