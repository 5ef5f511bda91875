import * as z from 'zod/mini';
import type { Db } from '../db/client.js';
import { claimEvent } from '../db/processed-events.js';
import type { Logger } from '../logger.js';
import { constantTimeEqual } from './constant-time.js';
import { applyLogEvent, HANDLED_LOG_TYPES, type LogEvent } from './lifecycle.js';

/**
 * Auth0 Log Streams, custom webhook. Auth0 POSTs batches of tenant log events in the format the stream is
 * configured with (JSON lines, a JSON array, or one JSON object), each `{ log_id, data: { type, date,
 * user_id, details, … } }`, at least once and in no particular order. callerpop applies the four types that
 * change the phone index and ignores the rest; each applied event is claimed by its log_id in the same
 * transaction as its writes, so a redelivery changes nothing and a crash mid-batch leaves no half-applied event.
 */

export const LOG_SOURCE = 'auth0-log';
/** Events applied per transaction. */
const EVENTS_PER_TRANSACTION = 100;

const text = (max: number) => z.string().check(z.maxLength(max));

const logEvent = z.object({
  log_id: z.string().check(z.minLength(1), z.maxLength(200)),
  data: z.looseObject({
    type: text(50),
    date: text(40),
    user_id: z.optional(text(300)),
    details: z.optional(z.unknown()),
    description: z.optional(text(2000)),
  }),
});

export class LogStreamFormatError extends Error {}

/** JSON array, single object, or JSON lines (one object per line; blank lines skipped). */
export function parseLogBody(body: string): unknown[] {
  const trimmed = body.trim();
  if (trimmed === '') return [];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    // Not one JSON document: JSON lines.
  }
  const out: unknown[] = [];
  for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      throw new LogStreamFormatError(
        `Line ${i + 1} is not JSON (expected JSON lines, a JSON array or an object)`,
      );
    }
  }
  return out;
}

export interface LogStreamSummary {
  received: number;
  applied: number;
  duplicates: number;
  ignored: number;
  invalid: number;
}

export async function ingestLogEvents(
  deps: { db: Db; logger: Logger; now: () => number; region: string },
  items: readonly unknown[],
): Promise<LogStreamSummary> {
  const summary: LogStreamSummary = {
    received: items.length,
    applied: 0,
    duplicates: 0,
    ignored: 0,
    invalid: 0,
  };
  const events: LogEvent[] = [];
  for (const item of items) {
    const parsed = logEvent.safeParse(item);
    if (!parsed.success) {
      summary.invalid++;
      continue;
    }
    const { log_id: logId, data } = parsed.data;
    if (!HANDLED_LOG_TYPES.has(data.type)) {
      summary.ignored++;
      continue;
    }
    const at = Date.parse(data.date);
    if (!Number.isFinite(at)) {
      summary.invalid++;
      continue;
    }
    events.push({
      logId,
      type: data.type,
      at,
      userId: data.user_id,
      details: data.details,
      description: data.description,
    });
  }

  // A chunk per transaction: one commit for many events, and an error rolls back its whole chunk (claims
  // included) so Auth0's redelivery applies exactly what was not committed.
  for (let i = 0; i < events.length; i += EVENTS_PER_TRANSACTION) {
    const chunk = events.slice(i, i + EVENTS_PER_TRANSACTION);
    const outcomes = await deps.db.transaction(async (tx) => {
      const out: string[] = [];
      for (const event of chunk) {
        if (!(await claimEvent(tx, LOG_SOURCE, event.logId, deps.now()))) out.push('duplicate');
        else out.push(await applyLogEvent(tx, event, { region: deps.region }));
      }
      return out;
    });
    outcomes.forEach((outcome, j) => {
      if (outcome === 'duplicate') summary.duplicates++;
      else if (outcome.startsWith('ignored')) summary.ignored++;
      else summary.applied++;
      const event = chunk[j];
      deps.logger.info('auth0 log event', { logId: event?.logId, type: event?.type, outcome });
    });
  }
  return summary;
}

/**
 * Auth0 sends the stream's "Authorization Token" setting verbatim as the Authorization header. Accept it as
 * is, and also as `Bearer <token>` (what people type in that field when they think of bearer tokens).
 */
export function isLogStreamAuthorized(header: string | undefined, token: string): boolean {
  const value = header ?? '';
  // Both compared, always: which form matched must not show in the timing.
  const plain = constantTimeEqual(value, token);
  const bearer = constantTimeEqual(value, `Bearer ${token}`);
  return plain || bearer;
}
