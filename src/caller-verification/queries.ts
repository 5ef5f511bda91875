import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { callerVerifications } from '../db/schema.js';

export type VerificationOutcome = 'pending' | 'verified' | 'failed' | 'send_failed';

export interface CallerVerificationRow {
  interactionId: string;
  codeHash: string;
  salt: string;
  attempts: number;
  expiresAt: number;
  outcome: VerificationOutcome;
}

function toRow(row: typeof callerVerifications.$inferSelect): CallerVerificationRow {
  return { ...row, outcome: row.outcome as VerificationOutcome };
}

/** One code per interaction: a retried `start` gets the existing row back and sends nothing. */
export async function createVerification(
  db: Db,
  input: { interactionId: string; codeHash: string; salt: string; expiresAt: number },
  at: number,
): Promise<{ row: CallerVerificationRow; created: boolean }> {
  const inserted = await db
    .insert(callerVerifications)
    .values({ ...input, attempts: 0, outcome: 'pending', createdAt: at, updatedAt: at })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { row: toRow(inserted[0]), created: true };
  const existing = await findVerification(db, input.interactionId);
  if (!existing) throw new Error('caller verification vanished between insert and read');
  return { row: existing, created: false };
}

export async function findVerification(db: Db, interactionId: string) {
  const rows = await db
    .select()
    .from(callerVerifications)
    .where(eq(callerVerifications.interactionId, interactionId))
    .limit(1);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/**
 * Counts one wrong try, atomically, while the check is still pending and under the limit.
 * Returns the new count, or undefined when the row was already settled or out of tries.
 */
export async function countWrongAttempt(
  db: Db,
  interactionId: string,
  maxAttempts: number,
  at: number,
): Promise<number | undefined> {
  const rows = await db
    .update(callerVerifications)
    .set({ attempts: sql`${callerVerifications.attempts} + 1`, updatedAt: at })
    .where(
      and(
        eq(callerVerifications.interactionId, interactionId),
        eq(callerVerifications.outcome, 'pending'),
        lt(callerVerifications.attempts, maxAttempts),
      ),
    )
    .returning({ attempts: callerVerifications.attempts });
  return rows[0]?.attempts;
}

/** Settles a pending check once; false when another request settled it first. */
export async function settleVerification(
  db: Db,
  interactionId: string,
  outcome: Exclude<VerificationOutcome, 'pending'>,
  at: number,
): Promise<boolean> {
  const rows = await db
    .update(callerVerifications)
    .set({ outcome, updatedAt: at })
    .where(
      and(eq(callerVerifications.interactionId, interactionId), eq(callerVerifications.outcome, 'pending')),
    )
    .returning({ id: callerVerifications.interactionId });
  return rows.length > 0;
}
