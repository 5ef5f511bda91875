import { and, desc, eq, inArray, isNull, lte, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { backfillRuns, backfillSeen, PHONE_SOURCES, phoneLinks } from '../db/schema.js';
import { WATERMARK_CONFLICT } from '../phone-index/index.js';

/**
 * The backfill's run bookkeeping: a run row per import over one input (keyed by sourceKey), resumed from
 * its checkpoint after a kill, abandoned on `--restart`, and finished with the optional sweep of users the
 * complete export no longer lists. The per-batch writes and the checkpoint move are in backfill.ts.
 */

export type BackfillRun = typeof backfillRuns.$inferSelect;

const UNFINISHED = ['running', 'failed'] as const;

/** The newest unfinished run over the same input, if any: it is resumed from its checkpoint. */
export async function findResumableRun(db: Db, sourceKey: string): Promise<BackfillRun | undefined> {
  const [run] = await db
    .select()
    .from(backfillRuns)
    .where(and(eq(backfillRuns.sourceKey, sourceKey), inArray(backfillRuns.status, [...UNFINISHED])))
    .orderBy(desc(backfillRuns.startedAt))
    .limit(1);
  return run;
}

/**
 * `--restart`: closes every unfinished run over the input for good (status `abandoned`, its seen users
 * forgotten), so no later run resumes its checkpoint or its old export job. Returns their ids.
 */
export async function abandonRuns(db: Db, sourceKey: string, now: number): Promise<string[]> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(backfillRuns)
      .set({ status: 'abandoned', updatedAt: now, finishedAt: now })
      .where(and(eq(backfillRuns.sourceKey, sourceKey), inArray(backfillRuns.status, [...UNFINISHED])))
      .returning({ id: backfillRuns.id });
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) await tx.delete(backfillSeen).where(inArray(backfillSeen.runId, ids));
    return ids;
  });
}

export async function createRun(db: Db, run: typeof backfillRuns.$inferInsert): Promise<BackfillRun> {
  const [row] = await db.insert(backfillRuns).values(run).returning();
  if (!row) throw new Error('backfill run was not created');
  return row;
}

export async function markRun(
  db: Db,
  runId: string,
  patch: { status: BackfillRun['status']; counters?: unknown; error?: string | null; now: number },
): Promise<void> {
  await db
    .update(backfillRuns)
    .set({
      status: patch.status,
      ...(patch.counters === undefined ? {} : { counters: patch.counters }),
      error: patch.error ?? null,
      updatedAt: patch.now,
      ...(patch.status === 'completed' ? { finishedAt: patch.now } : {}),
    })
    .where(eq(backfillRuns.id, runId));
}

/**
 * Ends a run in one transaction: with `pruneMissing`, the live links of users the complete export did not
 * list (gone from Auth0) are removed as of the export's time (a link written later, by an Action, stays);
 * the seen users are forgotten and the run is marked completed. One transaction, so a kill in between
 * can never leave a completed sweep with a run still open (whose resume would see no users and prune all).
 * A dry run only counts, and leaves no run behind.
 */
export async function finishRun(
  db: Db,
  options: {
    runId: string;
    snapshotAt: number;
    pruneMissing: boolean;
    dryRun: boolean;
    counters: (removedMissing: number) => unknown;
    now: number;
  },
): Promise<number> {
  return db.transaction(async (tx) => {
    let removed = 0;
    if (options.pruneMissing) {
      const seen = tx
        .select({ userId: backfillSeen.userId })
        .from(backfillSeen)
        .where(eq(backfillSeen.runId, options.runId));
      const where = and(
        isNull(phoneLinks.removedAt),
        lte(phoneLinks.eventAt, options.snapshotAt),
        inArray(phoneLinks.source, [...PHONE_SOURCES]),
        notInArray(phoneLinks.userId, seen),
      );
      if (options.dryRun) {
        const [row] = await tx.select({ n: sql<number>`count(*)` }).from(phoneLinks).where(where);
        removed = Number(row?.n ?? 0);
      } else {
        // Gone from the tenant as of the export, like a deletion: every source's watermark, so a late
        // event older than the export cannot give the user a new link either.
        await tx.run(
          sql`insert into link_watermarks (user_id, source, removed_at, kept_e164)
            select distinct ${phoneLinks.userId}, s.value, ${options.snapshotAt}, null
            from ${phoneLinks}, json_each(${JSON.stringify(PHONE_SOURCES)}) s where ${where}
            ${sql.raw(WATERMARK_CONFLICT)}`,
        );
        const rows = await tx
          .update(phoneLinks)
          .set({ removedAt: options.snapshotAt, eventAt: options.snapshotAt })
          .where(where)
          .returning({ id: phoneLinks.id });
        removed = rows.length;
      }
    }
    await tx.delete(backfillSeen).where(eq(backfillSeen.runId, options.runId));
    const counters = options.counters(removed);
    if (!options.dryRun)
      await tx
        .update(backfillRuns)
        .set({ status: 'completed', counters, error: null, updatedAt: options.now, finishedAt: options.now })
        .where(eq(backfillRuns.id, options.runId));
    return removed;
  });
}
