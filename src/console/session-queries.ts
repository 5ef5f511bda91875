import { and, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { agentSessions } from '../db/schema.js';

/** Agent sessions as the server keeps them: the cookie only names one. */

export type AgentSessionRow = typeof agentSessions.$inferSelect;

export async function insertAgentSession(db: Db, row: AgentSessionRow): Promise<void> {
  await db.insert(agentSessions).values(row);
}

export async function findAgentSession(db: Db, id: string): Promise<AgentSessionRow | undefined> {
  const rows = await db.select().from(agentSessions).where(eq(agentSessions.id, id)).limit(1);
  return rows[0];
}

/** The identity provider confirmed the agent's roles (and whether they make an administrator). */
export async function markRolesChecked(
  db: Db,
  id: string,
  input: { admin: boolean; roles: string[]; at: number },
): Promise<void> {
  await db
    .update(agentSessions)
    .set({ admin: input.admin, roles: JSON.stringify(input.roles), rolesCheckedAt: input.at })
    .where(eq(agentSessions.id, id));
}

export async function touchAgentSession(db: Db, id: string, at: number): Promise<void> {
  await db.update(agentSessions).set({ lastSeenAt: at }).where(eq(agentSessions.id, id));
}

/** Ends a session for good; false when it had already ended (or never existed). */
export async function revokeAgentSession(
  db: Db,
  id: string,
  input: { at: number; by: string },
): Promise<boolean> {
  const rows = await db
    .update(agentSessions)
    .set({ revokedAt: input.at, revokedBy: input.by })
    .where(and(eq(agentSessions.id, id), isNull(agentSessions.revokedAt)))
    .returning({ id: agentSessions.id });
  return rows.length > 0;
}

/** Sessions still in force, most recently used first. */
export async function listActiveAgentSessions(
  db: Db,
  input: { now: number; sub?: string; limit: number },
): Promise<AgentSessionRow[]> {
  const where = [isNull(agentSessions.revokedAt), gt(agentSessions.expiresAt, input.now)];
  if (input.sub !== undefined) where.push(eq(agentSessions.sub, input.sub));
  return db
    .select()
    .from(agentSessions)
    .where(and(...where))
    .orderBy(desc(agentSessions.lastSeenAt))
    .limit(input.limit);
}

/** Forgets sessions over for longer than `keepMs` (expired or revoked). */
export async function purgeAgentSessions(db: Db, input: { now: number; keepMs: number }): Promise<void> {
  const before = input.now - input.keepMs;
  await db
    .delete(agentSessions)
    .where(or(lt(agentSessions.expiresAt, before), lt(agentSessions.revokedAt, before)));
}
