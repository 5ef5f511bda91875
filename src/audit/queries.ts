import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type AuditAction, auditLog } from '../db/schema.js';

export interface AuditEntry {
  id: number;
  at: number;
  agentId: string;
  agentName: string | null;
  action: AuditAction;
  target: string | null;
  detail: Record<string, unknown>;
  requestId: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export async function appendAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await db.insert(auditLog).values(entry);
}

/**
 * Appends an entry unless the same agent already has one with this action and `detail.reason` since
 * `windowStart`; then that entry's `detail.repeats` counts this one instead (and `detail.lastAt` moves).
 * For entries anyone can cause without signing in (refused sign-ins): their number of rows stays bounded
 * (one per agent, reason and window) while the count of attempts is kept.
 */
export async function appendOrCountAudit(
  db: Db,
  entry: NewAuditEntry & { detail: { reason: string } },
  windowStart: number,
): Promise<'appended' | 'counted'> {
  return db.transaction(async (tx) => {
    const [recent] = await tx
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.agentId, entry.agentId),
          gte(auditLog.at, windowStart),
          eq(auditLog.action, entry.action),
          sql`json_extract(${auditLog.detail}, '$.reason') = ${entry.detail.reason}`,
        ),
      )
      .orderBy(desc(auditLog.id))
      .limit(1);
    if (!recent) {
      await tx.insert(auditLog).values(entry);
      return 'appended';
    }
    await tx
      .update(auditLog)
      .set({
        detail: sql`json_set(${auditLog.detail}, '$.repeats', coalesce(json_extract(${auditLog.detail}, '$.repeats'), 1) + 1, '$.lastAt', ${entry.at})`,
      })
      .where(eq(auditLog.id, recent.id));
    return 'counted';
  });
}

export interface AuditQuery {
  agentId?: string;
  action?: AuditAction;
  target?: string;
  since?: number;
  /** Pages back: entries with id below this. */
  beforeId?: number;
  limit: number;
}

/** Newest first. */
export async function queryAudit(db: Db, query: AuditQuery): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        query.agentId === undefined ? undefined : eq(auditLog.agentId, query.agentId),
        query.action === undefined ? undefined : eq(auditLog.action, query.action),
        query.target === undefined ? undefined : eq(auditLog.target, query.target),
        query.since === undefined ? undefined : gte(auditLog.at, query.since),
        query.beforeId === undefined ? undefined : lt(auditLog.id, query.beforeId),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(query.limit);
  return rows.map((row) => ({ ...row, detail: (row.detail ?? {}) as Record<string, unknown> }));
}
