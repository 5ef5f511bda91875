import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Db, Writer } from '../db/client.js';
import { heldLogEvents } from '../db/schema.js';

/** Log items kept aside instead of refused (see the table's comment in schema.ts). */

export type HeldLogEvent = typeof heldLogEvents.$inferSelect;
export type NewHeldLogEvent = typeof heldLogEvents.$inferInsert;

export async function insertHeldLogEvents(w: Writer, rows: readonly NewHeldLogEvent[]): Promise<void> {
  if (rows.length === 0) return;
  await w.insert(heldLogEvents).values([...rows]);
}

/** Open (unresolved) items, oldest first; `ids` narrows to those. */
export async function listHeldLogEvents(
  db: Db,
  options: { limit: number; ids?: readonly string[]; includeResolved?: boolean },
): Promise<HeldLogEvent[]> {
  const where = [];
  if (!options.includeResolved) where.push(isNull(heldLogEvents.resolvedAt));
  if (options.ids) where.push(inArray(heldLogEvents.id, [...options.ids]));
  return db
    .select()
    .from(heldLogEvents)
    .where(and(...where))
    .orderBy(asc(heldLogEvents.receivedAt), sql`rowid`)
    .limit(options.limit);
}

export async function countOpenHeldLogEvents(db: Db): Promise<number> {
  return db.$count(heldLogEvents, isNull(heldLogEvents.resolvedAt));
}

/** Marks an open item resolved (applied, a duplicate, dismissed…); false when it was not open. */
export async function resolveHeldLogEvent(
  w: Writer,
  id: string,
  resolution: string,
  at: number,
): Promise<boolean> {
  const rows = await w
    .update(heldLogEvents)
    .set({ resolvedAt: at, resolution })
    .where(and(eq(heldLogEvents.id, id), isNull(heldLogEvents.resolvedAt)))
    .returning({ id: heldLogEvents.id });
  return rows.length > 0;
}

/** Records why a replay still could not apply an item; it stays open. */
export async function noteHeldLogEvent(w: Writer, id: string, reason: string, detail: string | null) {
  await w.update(heldLogEvents).set({ reason, detail }).where(eq(heldLogEvents.id, id));
}

/** Retention: items received before `before` go, resolved or not (they hold personal data). */
export async function deleteHeldLogEventsBefore(db: Db, before: number): Promise<number> {
  const rows = await db
    .delete(heldLogEvents)
    .where(lt(heldLogEvents.receivedAt, before))
    .returning({ id: heldLogEvents.id });
  return rows.length;
}
