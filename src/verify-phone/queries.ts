import { and, count, eq, gte, lt, ne } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import {
  phoneLinks,
  type VerifyAttemptKind,
  type VerifyChannel,
  verifyAttempts,
  verifySessions,
  verifyUsedTokens,
} from '../db/schema.js';
import { upsertLinks } from '../phone-index/index.js';

/**
 * Storage for the phone verification page: one-time redirect tokens, page sessions, and the attempt log the
 * rate limits count. The index write on success lives here too, so it is one transaction with the session.
 */

export type VerifySession = typeof verifySessions.$inferSelect;

/**
 * Records a redirect token as used. False when it was used before: the caller must refuse it.
 * The primary key makes this atomic, so two tabs racing with the same token get one session between them.
 */
export async function claimRedirectToken(
  db: Db,
  token: { hash: string; userId: string; at: number; expiresAt: number },
): Promise<boolean> {
  const rows = await db
    .insert(verifyUsedTokens)
    .values({ tokenHash: token.hash, userId: token.userId, usedAt: token.at, expiresAt: token.expiresAt })
    .onConflictDoNothing()
    .returning({ tokenHash: verifyUsedTokens.tokenHash });
  return rows.length === 1;
}

export async function createVerifySession(db: Db, session: VerifySession): Promise<void> {
  await db.insert(verifySessions).values(session);
}

/** The live session with this id, or null when there is none or it has expired. */
export async function findVerifySession(db: Db, id: string, now: number): Promise<VerifySession | null> {
  const rows = await db.select().from(verifySessions).where(eq(verifySessions.id, id)).limit(1);
  const row = rows[0];
  if (!row || row.expiresAt <= now) return null;
  return row;
}

export async function recordCodeSent(
  db: Db,
  input: { sessionId: string; e164: string; channel: VerifyChannel; at: number },
): Promise<void> {
  await db
    .update(verifySessions)
    .set({ status: 'code', e164: input.e164, channel: input.channel, lastSentAt: input.at })
    .where(eq(verifySessions.id, input.sessionId));
}

/**
 * Back to the number step (the user wants another number). The rate limits keep what was spent and the
 * resend cooldown keeps running, so switching numbers is not a way around either.
 */
export async function resetToNumberStep(db: Db, sessionId: string): Promise<void> {
  await db
    .update(verifySessions)
    .set({ status: 'number', channel: null })
    .where(eq(verifySessions.id, sessionId));
}

/**
 * Logs one attempt and says whether it is within the limit, counting it with the ones before it in the window,
 * per number and per user. Inserting first and counting after means concurrent requests see each other.
 */
export async function takeAttempt(
  db: Db,
  input: { kind: VerifyAttemptKind; e164: string; userId: string; at: number; windowMs: number; max: number },
): Promise<{ allowed: boolean; limitedBy?: 'number' | 'user' }> {
  await db
    .insert(verifyAttempts)
    .values({ kind: input.kind, e164: input.e164, userId: input.userId, at: input.at });
  const since = input.at - input.windowMs;
  const [byNumber] = await db
    .select({ n: count() })
    .from(verifyAttempts)
    .where(
      and(
        eq(verifyAttempts.e164, input.e164),
        eq(verifyAttempts.kind, input.kind),
        gte(verifyAttempts.at, since),
      ),
    );
  if ((byNumber?.n ?? 0) > input.max) return { allowed: false, limitedBy: 'number' };
  const [byUser] = await db
    .select({ n: count() })
    .from(verifyAttempts)
    .where(
      and(
        eq(verifyAttempts.userId, input.userId),
        eq(verifyAttempts.kind, input.kind),
        gte(verifyAttempts.at, since),
      ),
    );
  if ((byUser?.n ?? 0) > input.max) return { allowed: false, limitedBy: 'user' };
  return { allowed: true };
}

/**
 * Verification succeeded: the session is done and the number becomes a verified profile link of the user,
 * at once. Every other verified profile number of the user loses its flag: the profile names one number,
 * and a number the user moved away from is no longer evidence.
 */
export async function completeVerification(
  db: Db,
  input: { sessionId: string; userId: string; e164: string; at: number },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(verifySessions)
      .set({ status: 'verified', e164: input.e164, verifiedAt: input.at })
      .where(eq(verifySessions.id, input.sessionId));
    const stale = await tx
      .select({ e164: phoneLinks.e164 })
      .from(phoneLinks)
      .where(
        and(
          eq(phoneLinks.userId, input.userId),
          eq(phoneLinks.source, 'profile'),
          eq(phoneLinks.verified, true),
          ne(phoneLinks.e164, input.e164),
        ),
      );
    await upsertLinks(tx, [
      { e164: input.e164, userId: input.userId, source: 'profile', verified: true, at: input.at },
      ...stale.map((s) => ({
        e164: s.e164,
        userId: input.userId,
        source: 'profile' as const,
        verified: false,
        at: input.at,
      })),
    ]);
  });
}

/** The profile now names another number than the verified one: the old link stops counting as verified. */
export async function unverifyProfileNumber(
  db: Db,
  input: { userId: string; e164: string; at: number },
): Promise<void> {
  const existing = await db
    .select({ id: phoneLinks.id })
    .from(phoneLinks)
    .where(
      and(
        eq(phoneLinks.userId, input.userId),
        eq(phoneLinks.e164, input.e164),
        eq(phoneLinks.source, 'profile'),
      ),
    )
    .limit(1);
  // Nothing indexed for it: writing an unverified link now would add a number the user moved away from.
  if (existing.length === 0) return;
  await upsertLinks(db, [
    { e164: input.e164, userId: input.userId, source: 'profile', verified: false, at: input.at },
  ]);
}

/** Deletes sessions, used tokens and attempts nobody can need any more (call from a periodic job). */
export async function purgeVerificationData(db: Db, now: number, attemptWindowMs: number): Promise<void> {
  await db.delete(verifySessions).where(lt(verifySessions.expiresAt, now));
  await db.delete(verifyUsedTokens).where(lt(verifyUsedTokens.expiresAt, now));
  await db.delete(verifyAttempts).where(lt(verifyAttempts.at, now - attemptWindowMs));
}
