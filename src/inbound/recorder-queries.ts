import type { InteractionChannel, PhoneSource } from '../db/schema.js';
import type { SqlRow, SqlRunner, SqlStatement } from '../db/sql-runner.js';
import type { Match } from '../phone-index/index.js';
import { type LinkRow, policyWarningSql } from '../phone-index/index.js';
import type { InteractionFlags, InteractionRecord } from './interaction-queries.js';

/**
 * The webhook's queries: the product's hot path, in plain SQL and for many webhooks at once. This file is the
 * one place hand-written SQL lives; recorder-queries.test.ts prepares every statement against the migrated
 * schema and checks its column lists against schema.ts, so a schema change that breaks one fails there.
 * Measured here: building and mapping a drizzle query costs several times what SQLite takes to run it, and
 * one multi-row statement for the webhooks that arrived together costs little more than one for a single
 * webhook. They run on a SqlRunner: prepared once and reused on the embedded Node database.
 */

export const LINK_COLUMNS = `pl.e164, pl.user_id, pl.source, pl.verified, pl.last_seen_at, a.connection, a.email, a.name,
  a.blocked, a.last_login_at, a.primary_user_id, ${policyWarningSql('pl')} as policy_warning`;

export const INTERACTION_COLUMNS = `id, channel, twilio_sid, raw_from, e164, from_reason, to_number, stir_verstat, status,
  matches, flags, caller_verification, created_at, updated_at`;

const placeholders = (count: number, width: number) =>
  Array.from({ length: count }, () => `(${'?, '.repeat(width - 1)}?)`).join(', ');

const nullableBool = (v: unknown) => (v === null || v === undefined ? null : Boolean(v));
const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const nullableString = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toLinkRow(row: SqlRow): LinkRow {
  return {
    userId: String(row.user_id),
    source: row.source as PhoneSource,
    verified: Boolean(row.verified),
    lastSeenAt: Number(row.last_seen_at),
    connection: nullableString(row.connection),
    email: nullableString(row.email),
    name: nullableString(row.name),
    blocked: nullableBool(row.blocked),
    lastLoginAt: nullableNumber(row.last_login_at),
    primaryUserId: nullableString(row.primary_user_id),
    policyWarning: Boolean(row.policy_warning),
  };
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value !== 'string') return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

function toInteraction(row: SqlRow): InteractionRecord {
  const matches = parseJson<unknown>(row.matches, []);
  return {
    id: String(row.id),
    channel: row.channel as InteractionChannel,
    twilioSid: String(row.twilio_sid),
    rawFrom: String(row.raw_from),
    e164: nullableString(row.e164),
    fromReason: nullableString(row.from_reason),
    toNumber: nullableString(row.to_number),
    stirVerstat: nullableString(row.stir_verstat),
    status: String(row.status),
    matches: Array.isArray(matches) ? (matches as Match[]) : [],
    flags: parseJson<InteractionFlags>(row.flags, {}),
    callerVerification: String(row.caller_verification),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * Every live link of each number (findLinksByE164 for many numbers), by number, each with its
 * policyWarning (an EXISTS on the enrollment_decisions e164 index, for MFA links only).
 */
export function findLinksStatement(numbers: readonly string[]): SqlStatement {
  return {
    sql: `select ${LINK_COLUMNS} from phone_links pl left join accounts a on a.user_id = pl.user_id
      where pl.e164 in (${numbers.map(() => '?').join(', ')}) and pl.removed_at is null and a.deleted_at is null`,
    args: numbers,
  };
}

export async function findLinksForNumbers(
  sql: SqlRunner,
  numbers: readonly string[],
): Promise<Map<string, LinkRow[]>> {
  const byNumber = new Map<string, LinkRow[]>();
  if (numbers.length === 0) return byNumber;
  for (const row of await sql.all(findLinksStatement(numbers))) {
    const e164 = String(row.e164);
    const list = byNumber.get(e164);
    if (list) list.push(toLinkRow(row));
    else byNumber.set(e164, [toLinkRow(row)]);
  }
  return byNumber;
}

export interface EventClaim {
  source: string;
  eventId: string;
  /** What this delivery answers, for a redelivery to get the same. */
  response: string;
  at: number;
}

/**
 * Inserts interactions (once per Twilio SID) and claims idempotency tokens, in one transaction.
 * Returns the SIDs this call created and the event ids it claimed; a SID already recorded (a retry, or
 * twice in the same batch) is not in `created`.
 */
export function insertInteractionsStatement(records: readonly InteractionRecord[]): SqlStatement {
  return {
    sql: `insert into interactions (${INTERACTION_COLUMNS}) values ${placeholders(records.length, 14)}
        on conflict (twilio_sid) do nothing returning twilio_sid`,
    args: records.flatMap((r) => [
      r.id,
      r.channel,
      r.twilioSid,
      r.rawFrom,
      r.e164,
      r.fromReason,
      r.toNumber,
      r.stirVerstat,
      r.status,
      JSON.stringify(r.matches),
      JSON.stringify(r.flags),
      r.callerVerification,
      r.createdAt,
      r.updatedAt,
    ]),
  };
}

export function claimEventsStatement(claims: readonly EventClaim[]): SqlStatement {
  return {
    sql: `insert into processed_events (source, event_id, received_at, response) values ${placeholders(claims.length, 4)}
        on conflict do nothing returning event_id`,
    args: claims.flatMap((c) => [c.source, c.eventId, c.at, c.response]),
  };
}

export async function insertWebhookInteractions(
  sql: SqlRunner,
  records: readonly InteractionRecord[],
  claims: readonly EventClaim[],
): Promise<{ created: Set<string>; claimed: Set<string> }> {
  const statements: SqlStatement[] = [];
  if (records.length > 0) statements.push(insertInteractionsStatement(records));
  if (claims.length > 0) statements.push(claimEventsStatement(claims));
  const results = await sql.writeBatch(statements);
  const created = new Set<string>();
  const claimed = new Set<string>();
  let next = 0;
  if (records.length > 0) for (const row of results[next++] ?? []) created.add(String(row.twilio_sid));
  if (claims.length > 0) for (const row of results[next] ?? []) claimed.add(String(row.event_id));
  return { created, claimed };
}

/** Recorded interactions by Twilio SID. */
export function findInteractionsStatement(sids: readonly string[]): SqlStatement {
  return {
    sql: `select ${INTERACTION_COLUMNS} from interactions where twilio_sid in (${sids.map(() => '?').join(', ')})`,
    args: sids,
  };
}

export async function findInteractionsBySids(
  sql: SqlRunner,
  sids: readonly string[],
): Promise<Map<string, InteractionRecord>> {
  const bySid = new Map<string, InteractionRecord>();
  if (sids.length === 0) return bySid;
  for (const row of await sql.all(findInteractionsStatement(sids))) {
    const record = toInteraction(row);
    bySid.set(record.twilioSid, record);
  }
  return bySid;
}

/** Twilio's CallStatus values in the order a call moves through them; the last five all end it. */
export const CALL_STATUS_RANK: Readonly<Record<string, number>> = {
  queued: 0,
  ringing: 1,
  'in-progress': 2,
  completed: 3,
  busy: 3,
  failed: 3,
  'no-answer': 3,
  canceled: 3,
};

/** The rank of the stored status, in SQL (an unknown status ranks below every known one). */
const STORED_STATUS_RANK = `case status ${Object.entries(CALL_STATUS_RANK)
  .map(([status, rank]) => `when '${status}' then ${rank}`)
  .join(' ')} else -1 end`;

/**
 * Moves a call forward to `status`, and only forward: the comparison with the stored status is part of
 * the UPDATE, so two callbacks applied at the same time cannot move it back (a read, a compare in JS and
 * an unconditional write could: the later writer won whatever its rank). Returns the updated record, or
 * undefined when the call is not recorded or is already at this rank or beyond.
 */
export function advanceCallStatusStatement(twilioSid: string, status: string, rank: number, at: number) {
  return {
    sql: `update interactions set status = ?, updated_at = ? where twilio_sid = ? and ${STORED_STATUS_RANK} < ?
      returning ${INTERACTION_COLUMNS}`,
    args: [status, at, twilioSid, rank],
  };
}

export async function advanceCallStatus(
  sql: SqlRunner,
  twilioSid: string,
  status: string,
  at: number,
): Promise<InteractionRecord | undefined> {
  const rank = CALL_STATUS_RANK[status];
  if (rank === undefined) return undefined;
  const [row] = await sql.all(advanceCallStatusStatement(twilioSid, status, rank, at));
  return row ? toInteraction(row) : undefined;
}
