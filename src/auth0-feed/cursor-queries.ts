import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { feedCursors } from '../db/schema.js';

/**
 * Named cursors of the feeds callerpop pulls (the Auth0 log catch-up's last applied log_id). A cursor only
 * moves from the value its mover read: two runs at once (a timer and an on-demand run, two Worker isolates)
 * cannot move it back; the one that finds it moved stops.
 */

export interface FeedCursor {
  value: string | null;
  /** What the last run did (JSON, as recordFeedRun stored it). */
  lastRun: unknown;
  updatedAt: number;
}

export async function readFeedCursor(db: Db, name: string): Promise<FeedCursor | undefined> {
  const [row] = await db.select().from(feedCursors).where(eq(feedCursors.name, name)).limit(1);
  if (!row) return undefined;
  let lastRun: unknown = null;
  try {
    lastRun = row.lastRun === null ? null : JSON.parse(row.lastRun);
  } catch {
    lastRun = null;
  }
  return { value: row.value, lastRun, updatedAt: row.updatedAt };
}

/** Moves the cursor from `expected` (null: not set yet) to `to`; false if another run moved it first. */
export async function moveFeedCursor(
  db: Db,
  name: string,
  expected: string | null,
  to: string,
  now: number,
): Promise<boolean> {
  await db
    .insert(feedCursors)
    .values({ name, value: null, lastRun: null, updatedAt: now })
    .onConflictDoNothing();
  const moved = await db
    .update(feedCursors)
    .set({ value: to, updatedAt: now })
    .where(
      and(
        eq(feedCursors.name, name),
        expected === null ? isNull(feedCursors.value) : eq(feedCursors.value, expected),
      ),
    )
    .returning({ name: feedCursors.name });
  return moved.length > 0;
}

/** Keeps what a run did beside the cursor, for operators. */
export async function recordFeedRun(db: Db, name: string, run: unknown, now: number): Promise<void> {
  const lastRun = JSON.stringify(run);
  await db
    .insert(feedCursors)
    .values({ name, value: null, lastRun, updatedAt: now })
    .onConflictDoUpdate({ target: feedCursors.name, set: { lastRun, updatedAt: now } });
}
