import { type SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
import {
  auditLog,
  backfillRuns,
  backfillSeen,
  callerVerifications,
  enrollmentDecisions,
  heldLogEvents,
  interactions,
  otpDeliveries,
  processedEvents,
} from '../db/schema.js';

/**
 * Deletes in bounded batches: one huge DELETE would hold the write lock (and, on Turso, one request) for as
 * long as it takes, stalling the webhooks that write interactions at the same time.
 */
const BATCH = 500;

/** How long a dry backfill run's seen users are kept: a dry run in progress still needs them. */
const DRY_RUN_SEEN_MS = 24 * 60 * 60 * 1000;

export interface PurgeResult {
  interactions: number;
  processedEvents: number;
  callerVerifications: number;
  otpDeliveries: number;
  enrollmentDecisions: number;
  backfillSeen: number;
  heldLogEvents: number;
  auditLog: number;
}

export interface PurgeCutoffs {
  /** Calls, texts and everything about them or about a number: codes sent, policy decisions. */
  interactionsBefore: number;
  eventsBefore: number;
  auditBefore: number;
  now: number;
}

/** Deletes, batch by batch, the rows of `table` matching `where` (by rowid: every table here has one). */
async function purgeWhere(db: Db, table: SQLiteTable, where: SQL, batch: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const result = await db.run(
      sql`delete from ${table} where rowid in (select rowid from ${table} where ${where} limit ${batch})`,
    );
    removed += result.rowsAffected;
    if (result.rowsAffected < batch) return removed;
  }
}

const olderThan = (column: SQLiteColumn, before: number) => sql`${column} < ${before}`;

/**
 * Removes everything past its retention: interactions and their caller verifications, OTP deliveries and
 * enrollment decisions (recipient numbers) older than `interactionsBefore`; event ids received before
 * `eventsBefore`; held log items (whole log events: personal data) older than `interactionsBefore`; audit
 * entries older than `auditBefore`; and the seen users of backfill runs that will
 * never finish (abandoned, or dry runs older than a day).
 */
export async function purgeExpired(db: Db, cutoffs: PurgeCutoffs, batch = BATCH): Promise<PurgeResult> {
  const before = cutoffs.interactionsBefore;
  const interactionsRemoved = await purgeWhere(
    db,
    interactions,
    olderThan(interactions.createdAt, before),
    batch,
  );
  // A verification is created after its interaction: one older than the cutoff belongs to a purged one.
  const verifications = await purgeWhere(
    db,
    callerVerifications,
    olderThan(callerVerifications.createdAt, before),
    batch,
  );
  return {
    interactions: interactionsRemoved,
    processedEvents: await purgeWhere(
      db,
      processedEvents,
      olderThan(processedEvents.receivedAt, cutoffs.eventsBefore),
      batch,
    ),
    callerVerifications: verifications,
    otpDeliveries: await purgeWhere(db, otpDeliveries, olderThan(otpDeliveries.createdAt, before), batch),
    enrollmentDecisions: await purgeWhere(
      db,
      enrollmentDecisions,
      olderThan(enrollmentDecisions.createdAt, before),
      batch,
    ),
    // Completed runs forget their seen users themselves; dry run ids carry their start time (dry-<ms>-…).
    backfillSeen: await purgeWhere(
      db,
      backfillSeen,
      sql`${backfillSeen.runId} in (select ${backfillRuns.id} from ${backfillRuns} where ${backfillRuns.status} in ('abandoned', 'completed'))
        or (${backfillSeen.runId} like 'dry-%' and cast(substr(${backfillSeen.runId}, 5, 13) as integer) < ${cutoffs.now - DRY_RUN_SEEN_MS})`,
      batch,
    ),
    heldLogEvents: await purgeWhere(db, heldLogEvents, olderThan(heldLogEvents.receivedAt, before), batch),
    auditLog: await purgeWhere(db, auditLog, olderThan(auditLog.at, cutoffs.auditBefore), batch),
  };
}
