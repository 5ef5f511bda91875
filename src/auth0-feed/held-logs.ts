import { claimEvent } from '../db/processed-events.js';
import { describeError } from '../shared/logger.js';
import { isDatabaseUnavailable } from '../shared/retry.js';
import {
  type HeldLogEvent,
  listHeldLogEvents,
  noteHeldLogEvent,
  resolveHeldLogEvent,
} from './held-log-queries.js';
import { applyLogEvent } from './log-events.js';
import { LOG_SOURCE, type LogDeps, readLogItem } from './log-stream.js';
import { parseDocument } from './log-stream-body.js';

/**
 * Replaying held log items: after a fix (a new callerpop version that reads a shape it did not, a database
 * problem that made one event fail), an operator applies what was kept aside. Each item is read again with
 * today's code and applied with its log_id claim, so an event the catch-up or a redelivery applied meanwhile
 * is a duplicate, never applied twice.
 */

export interface ReplayOutcome {
  id: string;
  logId: string | null;
  outcome: 'applied' | 'duplicate' | 'ignored' | 'still_held';
  detail: string;
}

async function replayOne(deps: LogDeps, row: HeldLogEvent): Promise<ReplayOutcome> {
  const base = { id: row.id, logId: row.logId };
  if (row.rawTruncated) {
    const detail = 'only the start was kept; the log catch-up (GET /api/v2/logs) applies the event';
    await noteHeldLogEvent(deps.db, row.id, row.reason, detail);
    return { ...base, outcome: 'still_held', detail };
  }
  const units = parseDocument(row.raw);
  const unit = units.length === 1 ? units[0] : undefined;
  if (!unit || unit.kind === 'bad') {
    const detail = unit?.detail ?? 'not one log item';
    await noteHeldLogEvent(deps.db, row.id, unit?.reason ?? 'unknown_shape', detail);
    return { ...base, outcome: 'still_held', detail };
  }
  const read = readLogItem(unit.value);
  if (read.kind === 'held') {
    await noteHeldLogEvent(deps.db, row.id, read.reason, read.detail);
    return { ...base, outcome: 'still_held', detail: read.detail };
  }
  if (read.kind === 'ignored') {
    await resolveHeldLogEvent(deps.db, row.id, `ignored: ${read.type}`, deps.now());
    return { ...base, outcome: 'ignored', detail: `${read.type} says nothing about phones` };
  }
  const { event } = read;
  try {
    const outcome = await deps.db.transaction(async (tx) => {
      if (!(await claimEvent(tx, LOG_SOURCE, event.logId, deps.now()))) {
        await resolveHeldLogEvent(tx, row.id, 'duplicate', deps.now());
        return 'duplicate';
      }
      const applied = await applyLogEvent(tx, event, { region: deps.region });
      await resolveHeldLogEvent(tx, row.id, `replayed: ${applied}`, deps.now());
      return applied;
    });
    if (outcome === 'duplicate')
      return { ...base, outcome: 'duplicate', detail: 'already applied from another delivery' };
    return { ...base, outcome: outcome.startsWith('ignored') ? 'ignored' : 'applied', detail: outcome };
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err;
    const detail = describeError(err);
    await noteHeldLogEvent(deps.db, row.id, 'apply_failed', detail);
    return { ...base, outcome: 'still_held', detail };
  }
}

/** Replays the open items (or the ones named), oldest first. */
export async function replayHeldLogs(
  deps: LogDeps,
  options: { ids?: readonly string[]; limit: number },
): Promise<ReplayOutcome[]> {
  const rows = await listHeldLogEvents(deps.db, { limit: options.limit, ids: options.ids });
  const out: ReplayOutcome[] = [];
  for (const row of rows) {
    const result = await replayOne(deps, row);
    deps.logger.info('auth0 log item replayed', { id: row.id, logId: row.logId, outcome: result.outcome });
    out.push(result);
  }
  return out;
}
