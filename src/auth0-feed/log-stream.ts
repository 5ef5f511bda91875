import type { Db } from '../db/client.js';
import { claimEvent } from '../db/processed-events.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import type { Logger } from '../shared/logger.js';
import { describeError } from '../shared/logger.js';
import { isDatabaseUnavailable } from '../shared/retry.js';
import { insertHeldLogEvents, type NewHeldLogEvent } from './held-log-queries.js';
import { applyLogEvent, HANDLED_LOG_TYPES, type LogEvent, logUserId } from './log-events.js';
import { type BodyUnit, readBodyUnits } from './log-stream-body.js';

/**
 * Auth0 tenant log events, from a Log Stream (custom webhook) or the catch-up over GET /api/v2/logs.
 *
 * Auth0 delivers a stream "at least once"; a delivery that fails is tried up to three times, then retried
 * "until the problem is resolved", and a stream failing for 7 days is paused (main/docs/customize/log-streams.mdx,
 * "Delivery attempts"; check-log-stream-health.mdx: "successive errors" disable it). So a delivery is never
 * refused for what is inside it: the events callerpop can apply are applied, and every item it cannot read
 * (a line that is not JSON, a shape it does not know, an event without a date, an apply that fails for that
 * event alone, a batch too large to read) is answered 2xx and kept aside in `held_log_events`, where an
 * operator can list and replay it. The one refusal left is a database that cannot be written (503): Auth0
 * redelivers, and nothing of the delivery is lost.
 *
 * Each applied event is claimed by its log_id in the same transaction as its writes: a redelivery, or the same
 * event from both the stream and the catch-up, changes nothing the second time.
 */

export const LOG_SOURCE = 'auth0-log';
/** Events applied per transaction. */
const EVENTS_PER_TRANSACTION = 100;
/** What a held item keeps of itself: enough to read and replay any real log event. */
export const MAX_HELD_RAW_CHARS = 16 * 1024;

export type LogOrigin = 'stream' | 'catch-up';

export interface LogStreamSummary {
  received: number;
  applied: number;
  duplicates: number;
  ignored: number;
  /** Kept aside in held_log_events (see GET /auth0/held-logs). */
  held: number;
}

export interface LogDeps {
  db: Db;
  logger: Logger;
  now: () => number;
  newId: () => string;
  region: string;
}

export type HeldReason = 'not_json' | 'unknown_shape' | 'no_date' | 'apply_failed' | 'oversized';

/** An item read, or why it cannot be: `ignored` for the many types that say nothing about phones. */
export type ReadItem =
  | { kind: 'event'; event: LogEvent }
  | { kind: 'ignored'; type: string }
  | { kind: 'held'; reason: HeldReason; detail: string; logId: string | null };

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * One log item in either shape. Auth0's log schema describes the log object itself, `log_id` at its top
 * (logs-schema.json), and that is what GET /api/v2/logs returns; streams have been captured sending
 * `{ log_id, data: { … } }` (not documented by Auth0). Both are read; the old `_id` name is read too (the one
 * verbatim example, adaptive-mfa-log-events.mdx, "MFA provider details").
 */
export function readLogItem(item: unknown): ReadItem {
  if (!isRecord(item)) return { kind: 'held', reason: 'unknown_shape', detail: 'not an object', logId: null };
  const data = isRecord(item.data) ? item.data : item;
  const logId = str(item.log_id) ?? str(data.log_id) ?? str(data._id) ?? null;
  const type = str(data.type);
  if (!logId || logId.length > 200)
    return { kind: 'held', reason: 'unknown_shape', detail: 'no log_id', logId: null };
  if (!type || type.length > 60) return { kind: 'held', reason: 'unknown_shape', detail: 'no type', logId };
  if (!HANDLED_LOG_TYPES.has(type)) return { kind: 'ignored', type };
  // `date` is not `required` in the schema; without it the event cannot be ordered against others.
  const at = typeof data.date === 'string' ? Date.parse(data.date) : Number.NaN;
  if (!Number.isFinite(at))
    return { kind: 'held', reason: 'no_date', detail: `${type} without a date`, logId };
  return {
    kind: 'event',
    event: {
      logId,
      type,
      at,
      userId: logUserId(data.user_id, data.details),
      details: data.details,
      description: str(data.description),
      strategy: str(data.strategy),
      connection: str(data.connection),
    },
  };
}

interface Pending {
  summary: LogStreamSummary;
  held: NewHeldLogEvent[];
  events: { event: LogEvent; raw: string }[];
}

function heldRow(
  deps: LogDeps,
  origin: LogOrigin,
  unit: { raw: string; truncated?: boolean },
  held: { reason: HeldReason; detail: string; logId: string | null },
): NewHeldLogEvent {
  const truncated = unit.truncated === true || unit.raw.length > MAX_HELD_RAW_CHARS;
  return {
    id: deps.newId(),
    logId: held.logId,
    origin,
    reason: held.reason,
    detail: held.detail.slice(0, 500),
    raw: unit.raw.slice(0, MAX_HELD_RAW_CHARS),
    rawTruncated: truncated,
    receivedAt: deps.now(),
  };
}

function sortUnit(deps: LogDeps, origin: LogOrigin, unit: BodyUnit, into: Pending) {
  into.summary.received++;
  if (unit.kind === 'bad') {
    into.held.push(heldRow(deps, origin, unit, { reason: unit.reason, detail: unit.detail, logId: null }));
    return;
  }
  const read = readLogItem(unit.value);
  if (read.kind === 'ignored') into.summary.ignored++;
  else if (read.kind === 'held') into.held.push(heldRow(deps, origin, unit, read));
  else into.events.push({ event: read.event, raw: unit.raw });
}

/** Claims and applies one event in its own transaction: 'duplicate', or what applyLogEvent did. */
async function applyOne(deps: LogDeps, event: LogEvent): Promise<string> {
  return deps.db.transaction(async (tx) => {
    if (!(await claimEvent(tx, LOG_SOURCE, event.logId, deps.now()))) return 'duplicate';
    return applyLogEvent(tx, event, { region: deps.region });
  });
}

/**
 * Applies events a chunk per transaction (one commit for many; an error rolls back the chunk, claims
 * included). A database that cannot be written fails the delivery (the sender redelivers; nothing was
 * written). Any other failure is about an event: the chunk's events are then tried one by one, and the ones
 * that fail are held, so one event callerpop cannot apply never stalls the stream.
 */
async function applyEvents(deps: LogDeps, origin: LogOrigin, pending: Pending): Promise<void> {
  const { events, summary } = pending;
  const record = (event: LogEvent, outcome: string) => {
    if (outcome === 'duplicate') summary.duplicates++;
    else if (outcome.startsWith('ignored')) summary.ignored++;
    else summary.applied++;
    deps.logger.info('auth0 log event', { logId: event.logId, type: event.type, origin, outcome });
  };
  for (let i = 0; i < events.length; i += EVENTS_PER_TRANSACTION) {
    const chunk = events.slice(i, i + EVENTS_PER_TRANSACTION);
    let outcomes: string[] | undefined;
    try {
      outcomes = await deps.db.transaction(async (tx) => {
        const out: string[] = [];
        for (const { event } of chunk) {
          if (!(await claimEvent(tx, LOG_SOURCE, event.logId, deps.now()))) out.push('duplicate');
          else out.push(await applyLogEvent(tx, event, { region: deps.region }));
        }
        return out;
      });
    } catch (chunkError) {
      if (isDatabaseUnavailable(chunkError)) throw chunkError;
      outcomes = undefined;
    }
    if (outcomes) {
      outcomes.forEach((outcome, j) => {
        const item = chunk[j];
        if (item) record(item.event, outcome);
      });
      continue;
    }
    const failed: { event: LogEvent; raw: string; error: unknown }[] = [];
    for (const item of chunk) {
      try {
        record(item.event, await applyOne(deps, item.event));
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        failed.push({ ...item, error });
      }
    }
    const rows = failed.map((f) =>
      heldRow(deps, origin, f, {
        reason: 'apply_failed',
        detail: describeError(f.error),
        logId: f.event.logId,
      }),
    );
    await insertHeldLogEvents(deps.db, rows);
    summary.held += rows.length;
  }
}

async function flush(deps: LogDeps, origin: LogOrigin, pending: Pending): Promise<void> {
  // Held items first: they are written whatever happens to the events next.
  if (pending.held.length > 0) {
    await insertHeldLogEvents(deps.db, pending.held);
    pending.summary.held += pending.held.length;
    for (const row of pending.held)
      deps.logger.error('auth0 log item held', {
        origin,
        logId: row.logId,
        reason: row.reason,
        detail: row.detail,
      });
  }
  await applyEvents(deps, origin, pending);
  pending.held = [];
  pending.events = [];
}

function emptySummary(): LogStreamSummary {
  return { received: 0, applied: 0, duplicates: 0, ignored: 0, held: 0 };
}

/** Items already parsed (the catch-up's page from GET /api/v2/logs). */
export async function ingestLogEvents(
  deps: LogDeps,
  items: readonly unknown[],
  options: { origin: LogOrigin },
): Promise<LogStreamSummary> {
  const pending: Pending = { summary: emptySummary(), held: [], events: [] };
  for (const value of items)
    sortUnit(deps, options.origin, { kind: 'item', value, raw: json(value) }, pending);
  await flush(deps, options.origin, pending);
  return pending.summary;
}

/** A Log Stream delivery's body, read as it streams in (any size; see log-stream-body.ts). */
export async function ingestLogBody(
  deps: LogDeps,
  body: ReadableStream<Uint8Array> | null,
): Promise<LogStreamSummary> {
  const pending: Pending = { summary: emptySummary(), held: [], events: [] };
  for await (const units of readBodyUnits(body)) {
    for (const unit of units) sortUnit(deps, 'stream', unit, pending);
    if (pending.events.length + pending.held.length >= EVENTS_PER_TRANSACTION)
      await flush(deps, 'stream', pending);
  }
  await flush(deps, 'stream', pending);
  return pending.summary;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Auth0 sends the stream's "Authorization Token" setting as the Authorization header ("The value in the
 * Authorization header of the request", custom-log-streams.mdx, "Configure log stream"). Accept it as is, and
 * also as `Bearer <token>` (what people type in that field when they think of bearer tokens).
 */
export function isLogStreamAuthorized(header: string | undefined, token: string): boolean {
  const value = header ?? '';
  // Both compared, always: which form matched must not show in the timing.
  const plain = constantTimeEqual(value, token);
  const bearer = constantTimeEqual(value, `Bearer ${token}`);
  return plain || bearer;
}
