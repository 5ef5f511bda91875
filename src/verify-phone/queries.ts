import { and, count, eq, gt, gte, isNotNull, lt, ne, or } from 'drizzle-orm';
import type { Db, Writer } from '../db/client.js';
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
  input: { sessionId: string; e164: string; channel: VerifyChannel; verificationSid: string; at: number },
): Promise<void> {
  await db
    .update(verifySessions)
    .set({
      status: 'code',
      e164: input.e164,
      channel: input.channel,
      lastSentAt: input.at,
      verificationSid: input.verificationSid,
    })
    .where(eq(verifySessions.id, input.sessionId));
}

/**
 * The Twilio verifications other open sessions are waiting on for this number. Twilio keeps one pending
 * verification per number, so a send from this session would re-send theirs (or replace it).
 */
export async function findOtherPendingVerifications(
  db: Db,
  input: { e164: string; sessionId: string; now: number },
): Promise<string[]> {
  const rows = await db
    .select({ sid: verifySessions.verificationSid })
    .from(verifySessions)
    .where(
      and(
        eq(verifySessions.e164, input.e164),
        eq(verifySessions.status, 'code'),
        ne(verifySessions.id, input.sessionId),
        gt(verifySessions.expiresAt, input.now),
        isNotNull(verifySessions.verificationSid),
      ),
    );
  return rows.flatMap((r) => (r.sid ? [r.sid] : []));
}

/** Whether an open session other than this one holds this Twilio verification. */
export async function verificationHeldElsewhere(
  db: Db,
  input: { verificationSid: string; sessionId: string; now: number },
): Promise<boolean> {
  const rows = await db
    .select({ id: verifySessions.id })
    .from(verifySessions)
    .where(
      and(
        eq(verifySessions.verificationSid, input.verificationSid),
        ne(verifySessions.id, input.sessionId),
        gt(verifySessions.expiresAt, input.now),
      ),
    )
    .limit(1);
  return rows.length > 0;
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

export type AttemptLimit = 'user_number' | 'user' | 'session';

/**
 * Whether one more attempt would pass a limit, counting the attempts since a time: sends per (user, number)
 * and per user, checks per (user, number) and per session. Never per number alone: another account's attempts
 * on a number (a stranger typing it in) must not lock out its owner. Call inside the write transaction that
 * then records the attempt, so concurrent requests see each other and a refused attempt is never counted.
 */
export async function attemptLimitReached(
  w: Writer,
  input: {
    kind: VerifyAttemptKind;
    e164: string;
    userId: string;
    sessionId: string;
    since: number;
    max: number;
  },
): Promise<AttemptLimit | null> {
  const recent = (...where: ReturnType<typeof eq>[]) =>
    w
      .select({ n: count() })
      .from(verifyAttempts)
      .where(and(eq(verifyAttempts.kind, input.kind), gte(verifyAttempts.at, input.since), ...where))
      .then((rows) => rows[0]?.n ?? 0);
  if (
    (await recent(eq(verifyAttempts.userId, input.userId), eq(verifyAttempts.e164, input.e164))) >= input.max
  )
    return 'user_number';
  if (input.kind === 'send' && (await recent(eq(verifyAttempts.userId, input.userId))) >= input.max)
    return 'user';
  if (input.kind === 'check' && (await recent(eq(verifyAttempts.sessionId, input.sessionId))) >= input.max)
    return 'session';
  return null;
}

export async function recordAttempt(
  w: Writer,
  input: { kind: VerifyAttemptKind; e164: string; userId: string; sessionId: string; at: number },
): Promise<void> {
  await w.insert(verifyAttempts).values(input);
}

/**
 * The code was right: the session is done and names the result it hands to Auth0. Nothing is indexed yet:
 * the page may have been completed by someone other than the person whose login made the link, so the number
 * waits for the Action to confirm the result came back through that login's /continue (phone.verified).
 */
export async function markVerified(
  db: Db,
  input: { sessionId: string; e164: string; resultId: string; at: number },
): Promise<void> {
  await db
    .update(verifySessions)
    .set({ status: 'verified', e164: input.e164, verifiedAt: input.at, resultId: input.resultId })
    .where(eq(verifySessions.id, input.sessionId));
}

export type Confirmation =
  | { confirmed: true }
  | { confirmed: false; reason: 'unknown_result' | 'other_user' | 'other_phone' };

/**
 * The Action saw the result inside the user's own login (phone.verified): the number becomes a verified
 * profile link of the user. Every other verified profile number of the user loses its flag: the profile names
 * one number, and a number the user moved away from is no longer evidence. Once per result: a repeat confirms
 * without writing again.
 */
export async function confirmVerifiedNumber(
  tx: Writer,
  input: { resultId: string; userId: string; e164: string; at: number },
): Promise<Confirmation> {
  const [session] = await tx
    .select()
    .from(verifySessions)
    .where(and(eq(verifySessions.resultId, input.resultId), eq(verifySessions.status, 'verified')))
    .limit(1);
  if (!session) return { confirmed: false, reason: 'unknown_result' };
  if (session.userId !== input.userId) return { confirmed: false, reason: 'other_user' };
  if (session.e164 !== input.e164) return { confirmed: false, reason: 'other_phone' };
  if (session.confirmedAt !== null) return { confirmed: true };
  // The index is ordered by event time: the number was proven when the code was checked.
  const at = session.verifiedAt ?? input.at;
  await tx.update(verifySessions).set({ confirmedAt: input.at }).where(eq(verifySessions.id, session.id));
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
    { e164: input.e164, userId: input.userId, source: 'profile', verified: true, at },
    ...stale.map((row) => ({
      e164: row.e164,
      userId: input.userId,
      source: 'profile' as const,
      verified: false,
      at,
    })),
  ]);
  return { confirmed: true };
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

/** How long a verified session waits for the Action's confirmation (it may come at the user's next login). */
export const CONFIRMATION_WINDOW_MS = 30 * 24 * 60 * 60_000;

/** Deletes sessions, used tokens and attempts nobody can need any more (call from a periodic job). */
export async function purgeVerificationData(db: Db, now: number, attemptWindowMs: number): Promise<void> {
  // A verified session the Action has not confirmed yet is kept for CONFIRMATION_WINDOW_MS.
  await db
    .delete(verifySessions)
    .where(
      and(
        lt(verifySessions.expiresAt, now),
        or(
          ne(verifySessions.status, 'verified'),
          isNotNull(verifySessions.confirmedAt),
          lt(verifySessions.verifiedAt, now - CONFIRMATION_WINDOW_MS),
        ),
      ),
    );
  await db.delete(verifyUsedTokens).where(lt(verifyUsedTokens.expiresAt, now));
  await db.delete(verifyAttempts).where(lt(verifyAttempts.at, now - attemptWindowMs));
}
