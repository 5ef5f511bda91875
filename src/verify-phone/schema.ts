import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Redirect tokens from the post-login Action already used to open a session: a token opens one session only. */
export const verifyUsedTokens = sqliteTable(
  'verify_used_tokens',
  {
    /**
     * SHA-256 (hex) of the token's decoded signature bytes: one token however its base64url is spelled (the
     * token itself is a credential and is not stored).
     */
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id').notNull(),
    usedAt: integer('used_at').notNull(),
    /** The token's own expiry: after it the row is only history and may be purged. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('verify_used_tokens_expires').on(t.expiresAt)],
);

export const VERIFY_SESSION_STATUSES = ['number', 'code', 'verified'] as const;
export type VerifySessionStatus = (typeof VERIFY_SESSION_STATUSES)[number];

export const VERIFY_CHANNELS = ['sms', 'call'] as const;
export type VerifyChannel = (typeof VERIFY_CHANNELS)[number];

/** One visit to the verification page, opened by a valid redirect token and bound to a browser cookie. */
export const verifySessions = sqliteTable(
  'verify_sessions',
  {
    /** SHA-256 (hex) of the cookie value: a stolen database row cannot be turned back into a cookie. */
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    /** Auth0's transaction `state`: the result goes back bound to it, and only to it. */
    state: text('state').notNull(),
    /** Per-session CSRF token, echoed by every form. */
    csrfToken: text('csrf_token').notNull(),
    status: text('status', { enum: VERIFY_SESSION_STATUSES }).notNull(),
    /** The number being verified (E.164), from the profile or typed on the page. */
    e164: text('e164'),
    /** The number the Action says was verified before, when the profile now names another one. */
    previousE164: text('previous_e164'),
    channel: text('channel', { enum: VERIFY_CHANNELS }),
    lastSentAt: integer('last_sent_at'),
    /** The Twilio Verify verification this session started (VE…): its code is checked by this SID only. */
    verificationSid: text('verification_sid'),
    verifiedAt: integer('verified_at'),
    /** The result token's id: the Action confirms it (phone.verified) before the number is indexed. */
    resultId: text('result_id'),
    /** When the Action confirmed the result through Auth0's /continue, and the number was indexed. */
    confirmedAt: integer('confirmed_at'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    index('verify_sessions_expires').on(t.expiresAt),
    index('verify_sessions_verification').on(t.verificationSid),
    index('verify_sessions_result').on(t.resultId),
  ],
);

export const VERIFY_ATTEMPT_KINDS = ['send', 'check'] as const;
export type VerifyAttemptKind = (typeof VERIFY_ATTEMPT_KINDS)[number];

/** Every code sent and every code checked, for the per-number and per-user limits (toll fraud, guessing). */
export const verifyAttempts = sqliteTable(
  'verify_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: VERIFY_ATTEMPT_KINDS }).notNull(),
    e164: text('e164').notNull(),
    userId: text('user_id').notNull(),
    /** The session that made it: limits count per session and per (user, number), never per number alone. */
    sessionId: text('session_id'),
    at: integer('at').notNull(),
  },
  (t) => [
    index('verify_attempts_number').on(t.e164, t.kind, t.at),
    index('verify_attempts_user').on(t.userId, t.kind, t.at),
    index('verify_attempts_user_number').on(t.userId, t.e164, t.kind, t.at),
    index('verify_attempts_session').on(t.sessionId, t.kind, t.at),
  ],
);
