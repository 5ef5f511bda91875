import { and, desc, eq, gte, lt } from 'drizzle-orm';
import type { Db } from './client.js';
import { type AuditAction, auditLog } from './schema.js';

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
