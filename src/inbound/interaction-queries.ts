import { and, asc, desc, eq, gt, gte, lt, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type InteractionChannel, interactions } from '../db/schema.js';
import type { Match } from '../phone-index/index.js';

export interface InteractionFlags {
  sharedLine?: boolean;
  /** The lookup failed or missed its deadline: the caller was routed without a match. */
  lookupFailed?: boolean;
  /** Enrollment policy `warn` let a number through that another account uses. */
  policyWarning?: boolean;
  /** Why the IVR's caller check sent no code (a toll-fraud refusal such as `country_not_allowed`). */
  verificationSkipped?: string;
}

export interface InteractionRecord {
  id: string;
  channel: InteractionChannel;
  twilioSid: string;
  rawFrom: string;
  e164: string | null;
  fromReason: string | null;
  toNumber: string | null;
  stirVerstat: string | null;
  status: string;
  matches: Match[];
  flags: InteractionFlags;
  callerVerification: string;
  createdAt: number;
  updatedAt: number;
}

function toRecord(row: typeof interactions.$inferSelect): InteractionRecord {
  return {
    ...row,
    matches: Array.isArray(row.matches) ? (row.matches as Match[]) : [],
    flags: (row.flags ?? {}) as InteractionFlags,
  };
}

/** By callerpop id or Twilio SID. */
export async function findInteraction(db: Db, idOrSid: string): Promise<InteractionRecord | undefined> {
  const rows = await db
    .select()
    .from(interactions)
    .where(or(eq(interactions.id, idOrSid), eq(interactions.twilioSid, idOrSid)))
    .limit(1);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Applies a status change; returns the updated row, or undefined when the SID is unknown. */
export async function updateInteraction(
  db: Db,
  twilioSid: string,
  patch: Partial<Pick<InteractionRecord, 'status' | 'callerVerification' | 'flags'>>,
  at: number,
): Promise<InteractionRecord | undefined> {
  const rows = await db
    .update(interactions)
    .set({ ...patch, updatedAt: at })
    .where(eq(interactions.twilioSid, twilioSid))
    .returning();
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Newest first; `before` pages back by createdAt. */
export async function listInteractions(db: Db, options: { limit: number; before?: number }) {
  const rows = await db
    .select()
    .from(interactions)
    .where(options.before === undefined ? undefined : lt(interactions.createdAt, options.before))
    .orderBy(desc(interactions.createdAt))
    .limit(options.limit);
  return rows.map(toRecord);
}

/**
 * Changed after a point, oldest first in (updatedAt, id) order: a reconnecting agent replays these to
 * catch up. With `id`, after that row (rows of the same millisecond with a greater id still come);
 * without, after every row updated at `at` or before. Served by the (updated_at, id) index: the
 * `updated_at >= at` range plus a filter on the boundary millisecond, already in index order.
 */
export async function listInteractionsUpdatedSince(db: Db, after: { at: number; id?: string }, limit = 200) {
  const where =
    after.id === undefined
      ? gt(interactions.updatedAt, after.at)
      : and(
          gte(interactions.updatedAt, after.at),
          or(gt(interactions.updatedAt, after.at), gt(interactions.id, after.id)),
        );
  const rows = await db
    .select()
    .from(interactions)
    .where(where)
    .orderBy(asc(interactions.updatedAt), asc(interactions.id))
    .limit(limit);
  return rows.map(toRecord);
}
