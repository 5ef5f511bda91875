import { inArray, lt, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { interactions, processedEvents } from './schema.js';

/**
 * Deletes in bounded batches: one huge DELETE would hold the write lock (and, on Turso, one request) for as
 * long as it takes, stalling the webhooks that write interactions at the same time.
 */
const BATCH = 500;

export interface PurgeResult {
  interactions: number;
  processedEvents: number;
}

/** Removes interactions created before `interactionsBefore` and event ids received before `eventsBefore`. */
export async function purgeExpired(
  db: Db,
  cutoffs: { interactionsBefore: number; eventsBefore: number },
  batch = BATCH,
): Promise<PurgeResult> {
  let removedInteractions = 0;
  for (;;) {
    const expired = db
      .select({ id: interactions.id })
      .from(interactions)
      .where(lt(interactions.createdAt, cutoffs.interactionsBefore))
      .limit(batch);
    const result = await db.delete(interactions).where(inArray(interactions.id, expired));
    removedInteractions += result.rowsAffected;
    if (result.rowsAffected < batch) break;
  }

  let removedEvents = 0;
  for (;;) {
    // processed_events has a composite key; its rowid is the cheap handle for a bounded batch.
    const result = await db.run(
      sql`delete from ${processedEvents} where rowid in (select rowid from ${processedEvents} where ${processedEvents.receivedAt} < ${cutoffs.eventsBefore} limit ${batch})`,
    );
    removedEvents += result.rowsAffected;
    if (result.rowsAffected < batch) break;
  }
  return { interactions: removedInteractions, processedEvents: removedEvents };
}
