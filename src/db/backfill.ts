import { and, desc, eq, inArray, isNull, lte, notInArray, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import {
  type AccountInput,
  type LinkInput,
  removeLinks,
  upsertAccounts,
  upsertLinks,
  WRITE_CHUNK,
} from './index-writes.js';
import { backfillRuns, backfillSeen, PHONE_SOURCES, type PhoneSource, phoneLinks } from './schema.js';

/**
 * The backfill's writes. A batch of whole users is one transaction: accounts, links, removals and the
 * run's checkpoint commit together or not at all, so a kill loses at most the batch in flight and never
 * leaves half a user. Writes go through the shared event-time rules of index-writes.ts.
 */

export type BackfillRun = typeof backfillRuns.$inferSelect;

export interface PreparedUser {
  account: AccountInput;
  links: LinkInput[];
  /** Sources this input speaks for completely, with the time removals are dated (prune scope). */
  authoritative: { source: PhoneSource; at: number }[];
}

export interface BatchChanges {
  added: number;
  updated: number;
  removed: number;
  /** Live links the input says are gone, left in place because pruning is off. */
  stale: number;
}

export interface BatchCommit {
  runId: string;
  line: number;
  counters: unknown;
  users: PreparedUser[];
  prune: boolean;
  /** Remember the users for the end-of-run sweep of users missing from the export. */
  trackSeen: boolean;
  dryRun: boolean;
  now: number;
}

class DryRunRollback extends Error {}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const key = (e164: string, source: string) => `${e164}\u0000${source}`;

/** Writes one batch and moves the checkpoint; with `dryRun` computes the same changes and rolls back. */
export async function commitBatch(db: Db, batch: BatchCommit): Promise<BatchChanges> {
  let changes: BatchChanges = { added: 0, updated: 0, removed: 0, stale: 0 };
  // A dry run still needs the seen users for its end-of-run count; they are bookkeeping, not the index.
  if (batch.dryRun && batch.trackSeen) await insertSeen(db, batch);
  try {
    await db.transaction(async (tx) => {
      changes = await diffAndRemove(tx, batch);
      await upsertAccounts(
        tx,
        batch.users.map((u) => u.account),
      );
      await upsertLinks(
        tx,
        batch.users.flatMap((u) => u.links),
      );
      if (batch.dryRun) throw new DryRunRollback();
      if (batch.trackSeen) await insertSeen(tx, batch);
      await tx
        .update(backfillRuns)
        .set({ line: batch.line, counters: batch.counters, updatedAt: batch.now })
        .where(eq(backfillRuns.id, batch.runId));
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  return changes;
}

async function insertSeen(db: Db | Tx, batch: BatchCommit): Promise<void> {
  for (let i = 0; i < batch.users.length; i += WRITE_CHUNK) {
    const rows = batch.users
      .slice(i, i + WRITE_CHUNK)
      .map((u) => ({ runId: batch.runId, userId: u.account.userId }));
    await db.insert(backfillSeen).values(rows).onConflictDoNothing();
  }
}

async function diffAndRemove(tx: Tx, batch: BatchCommit): Promise<BatchChanges> {
  const changes: BatchChanges = { added: 0, updated: 0, removed: 0, stale: 0 };
  const userIds = batch.users.map((u) => u.account.userId);
  const existing = new Map<string, Map<string, typeof phoneLinks.$inferSelect>>();
  for (let i = 0; i < userIds.length; i += WRITE_CHUNK) {
    const rows = await tx
      .select()
      .from(phoneLinks)
      .where(inArray(phoneLinks.userId, userIds.slice(i, i + WRITE_CHUNK)));
    for (const row of rows) {
      const byKey = existing.get(row.userId) ?? new Map();
      existing.set(row.userId, byKey);
      byKey.set(key(row.e164, row.source), row);
    }
  }
  for (const user of batch.users) {
    const current = existing.get(user.account.userId);
    const wanted = new Set<string>();
    for (const link of user.links) {
      const k = key(link.e164, link.source);
      if (wanted.has(k)) continue;
      wanted.add(k);
      const row = current?.get(k);
      if (!row) changes.added += 1;
      else if (row.removedAt !== null) {
        if (link.at > row.removedAt) changes.added += 1;
      } else if (link.verified !== undefined && link.verified !== row.verified && link.at >= row.eventAt) {
        changes.updated += 1;
      }
    }
    if (!current) continue;
    for (const [k, row] of current) {
      if (row.removedAt !== null || wanted.has(k)) continue;
      const scope = user.authoritative.find((a) => a.source === row.source);
      if (!scope || row.eventAt > scope.at) continue;
      if (!batch.prune) {
        changes.stale += 1;
        continue;
      }
      changes.removed += await removeLinks(tx, {
        userId: row.userId,
        e164: row.e164,
        source: row.source,
        at: scope.at,
      });
    }
  }
  return changes;
}

/** The newest unfinished run over the same input, if any: it is resumed from its checkpoint. */
export async function findResumableRun(db: Db, sourceKey: string): Promise<BackfillRun | undefined> {
  const [run] = await db
    .select()
    .from(backfillRuns)
    .where(and(eq(backfillRuns.sourceKey, sourceKey), sql`${backfillRuns.status} <> 'completed'`))
    .orderBy(desc(backfillRuns.startedAt))
    .limit(1);
  return run;
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
 * After a complete export: users the index knows but the export does not are gone from Auth0, so their
 * live links are removed as of the export's time (a link written later, by an Action, stays).
 */
export async function pruneMissingUsers(
  db: Db,
  options: { runId: string; snapshotAt: number; dryRun: boolean },
): Promise<number> {
  const seen = db
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
    const [row] = await db.select({ n: sql<number>`count(*)` }).from(phoneLinks).where(where);
    return Number(row?.n ?? 0);
  }
  const removed = await db
    .update(phoneLinks)
    .set({ removedAt: options.snapshotAt, eventAt: options.snapshotAt })
    .where(where)
    .returning({ id: phoneLinks.id });
  return removed.length;
}

export async function forgetSeen(db: Db, runId: string): Promise<void> {
  await db.delete(backfillSeen).where(eq(backfillSeen.runId, runId));
}
