import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Times are integer milliseconds since the epoch: cheap to compare, the same on both runtimes.

export const PHONE_SOURCES = ['mfa_sms', 'mfa_voice', 'passwordless', 'profile'] as const;
export type PhoneSource = (typeof PHONE_SOURCES)[number];

/** One Auth0 user, as last reported by an Action, a Log Stream event or the backfill. */
export const accounts = sqliteTable('accounts', {
  userId: text('user_id').primaryKey(),
  connection: text('connection'),
  email: text('email'),
  name: text('name'),
  /** Null when no source has said yet (so a partial update never overwrites a known value). */
  blocked: integer('blocked', { mode: 'boolean' }),
  lastLoginAt: integer('last_login_at'),
  /** Auth0 account linking: the primary user id this identity was merged into, if any. */
  primaryUserId: text('primary_user_id'),
  /** When the user was deleted in Auth0 (Log Stream `sdu`); kept so late events cannot resurrect it. */
  deletedAt: integer('deleted_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Many accounts per number, many numbers per account. One row per (number, user, source);
 * removal is a tombstone with the event time, so an older redelivered event cannot bring it back.
 */
export const phoneLinks = sqliteTable(
  'phone_links',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    e164: text('e164').notNull(),
    userId: text('user_id').notNull(),
    source: text('source', { enum: PHONE_SOURCES }).notNull(),
    verified: integer('verified', { mode: 'boolean' }).notNull().default(false),
    firstSeenAt: integer('first_seen_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** Time of the newest event applied to this row (event time, not arrival time). */
    eventAt: integer('event_at').notNull(),
    removedAt: integer('removed_at'),
  },
  (t) => [
    uniqueIndex('phone_links_e164_user_source').on(t.e164, t.userId, t.source),
    index('phone_links_user').on(t.userId),
  ],
);

export const INTERACTION_CHANNELS = ['voice', 'sms'] as const;
export type InteractionChannel = (typeof INTERACTION_CHANNELS)[number];

/** A call or a text, with the matches as they were when it arrived. */
export const interactions = sqliteTable(
  'interactions',
  {
    id: text('id').primaryKey(),
    channel: text('channel', { enum: INTERACTION_CHANNELS }).notNull(),
    twilioSid: text('twilio_sid').notNull(),
    rawFrom: text('raw_from').notNull(),
    e164: text('e164'),
    /** Why the caller is not a usable number (withheld, client identity…), when it is not. */
    fromReason: text('from_reason'),
    toNumber: text('to_number'),
    stirVerstat: text('stir_verstat'),
    status: text('status').notNull(),
    /** JSON array of ranked matches, frozen at arrival. */
    matches: text('matches', { mode: 'json' }).notNull().default(sql`'[]'`),
    /** JSON object of flags for the agent: shared line, policy warning, lookup failure… */
    flags: text('flags', { mode: 'json' }).notNull().default(sql`'{}'`),
    callerVerification: text('caller_verification').notNull().default('not_attempted'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('interactions_twilio_sid').on(t.twilioSid),
    index('interactions_created').on(t.createdAt),
    // Replay pages walk (updated_at, id): the id tells apart rows updated in the same millisecond.
    index('interactions_updated').on(t.updatedAt, t.id),
  ],
);

/** Idempotency: every webhook, Action callback and Log Stream event id seen, with the answer given. */
export const processedEvents = sqliteTable(
  'processed_events',
  {
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    /** What was answered the first time, so a retry gets the same answer. */
    response: text('response'),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.source, t.eventId] }),
    index('processed_events_received').on(t.receivedAt),
  ],
);

// --- backfill ---

/**
 * One backfill run over one export (a file on disk, or a users-export job downloaded to disk). The
 * checkpoint is the last input line whose users are committed; it is written in the same transaction as
 * those users, so a killed run resumes exactly after the last committed batch.
 */
export const backfillRuns = sqliteTable(
  'backfill_runs',
  {
    id: text('id').primaryKey(),
    /** Identifies the input: the export job id, or the file's path, size and modification time. */
    sourceKey: text('source_key').notNull(),
    /** What to show a human: the path read, with the job id when it came from Auth0. */
    source: text('source').notNull(),
    jobId: text('job_id'),
    /** The options that change what is written (mfa, prune); a resume must use the same. */
    options: text('options', { mode: 'json' }).notNull().default(sql`'{}'`),
    /** abandoned: closed by `--restart`, never resumed. */
    status: text('status', { enum: ['running', 'completed', 'failed', 'abandoned'] }).notNull(),
    /** The time the export describes (job creation, or the file's mtime): removals are dated with it. */
    snapshotAt: integer('snapshot_at').notNull(),
    /** Last input line whose users are committed (0: none yet). */
    line: integer('line').notNull().default(0),
    /** Summary counters so far, so a resumed run reports the whole import. */
    counters: text('counters', { mode: 'json' }).notNull().default(sql`'{}'`),
    error: text('error'),
    startedAt: integer('started_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('backfill_runs_source').on(t.sourceKey, t.status)],
);

/** Users a `--prune` run has seen, so links of users missing from the export can be removed at the end. */
export const backfillSeen = sqliteTable(
  'backfill_seen',
  {
    runId: text('run_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.userId] })],
);

// --- phone verification ---

/** Redirect tokens from the post-login Action already used to open a session: a token opens one session only. */
export const verifyUsedTokens = sqliteTable(
  'verify_used_tokens',
  {
    /** SHA-256 (hex) of the whole token: the token itself is a credential and is not stored. */
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
    verifiedAt: integer('verified_at'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('verify_sessions_expires').on(t.expiresAt)],
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
    at: integer('at').notNull(),
  },
  (t) => [
    index('verify_attempts_number').on(t.e164, t.kind, t.at),
    index('verify_attempts_user').on(t.userId, t.kind, t.at),
  ],
);

// --- agent ---

export const AUDIT_ACTIONS = [
  'lookup',
  'pop_view',
  'console_view',
  'sign_in',
  'sign_in_refused',
  'sign_out',
  'audit_read',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who looked at what, when: every lookup, every pop view, every sign-in. Append-only. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** `token:admin`, `oidc:{sub}`, or `api:admin-token` for the bearer token. */
    agentId: text('agent_id').notNull(),
    agentName: text('agent_name'),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    /** What was looked at: the E.164 looked up, the interaction id viewed. */
    target: text('target'),
    /** Small JSON object: match count, how the lookup arrived, why a sign-in was refused. */
    detail: text('detail', { mode: 'json' }).notNull().default(sql`'{}'`),
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_agent').on(t.agentId, t.at),
    index('audit_log_target').on(t.target, t.at),
  ],
);

/**
 * A one-time code texted to a caller during the IVR. Only a salted SHA-256 of the code is kept; the
 * row is bound to the interaction, counts wrong tries and expires.
 */
export const callerVerifications = sqliteTable('caller_verifications', {
  interactionId: text('interaction_id').primaryKey(),
  codeHash: text('code_hash').notNull(),
  salt: text('salt').notNull(),
  attempts: integer('attempts').notNull().default(0),
  expiresAt: integer('expires_at').notNull(),
  /** pending, verified, failed. */
  outcome: text('outcome').notNull().default('pending'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

// --- auth0 feed ---

export const ENROLLMENT_DECISIONS = ['allow', 'warn', 'block'] as const;
export type EnrollmentDecisionKind = (typeof ENROLLMENT_DECISIONS)[number];

/**
 * Every answer the one-number-per-user policy gave, with the accounts that already used the number:
 * the audit trail for a refused enrollment, and how a lookup learns a number went through on `warn`.
 */
export const enrollmentDecisions = sqliteTable(
  'enrollment_decisions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    e164: text('e164').notNull(),
    userId: text('user_id').notNull(),
    /** ENROLLMENT_POLICY when the decision was made. */
    policy: text('policy', { enum: ENROLLMENT_DECISIONS }).notNull(),
    decision: text('decision', { enum: ENROLLMENT_DECISIONS }).notNull(),
    /** no_conflict, same_person, shared_number, conflict. */
    reason: text('reason').notNull(),
    /** JSON array of { userId, sources } already holding the number (other people only). */
    conflicting: text('conflicting', { mode: 'json' }).notNull().default(sql`'[]'`),
    channel: text('channel'),
    /** Which Action asked: send-phone-message, custom-phone-provider, or a direct check. */
    trigger: text('trigger').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('enrollment_decisions_e164').on(t.e164, t.createdAt),
    index('enrollment_decisions_user').on(t.userId),
  ],
);

export const OTP_STATUSES = ['pending', 'sent', 'refused', 'failed'] as const;
export type OtpStatus = (typeof OTP_STATUSES)[number];
export const OTP_CHANNELS = ['sms', 'voice'] as const;
export type OtpChannel = (typeof OTP_CHANNELS)[number];

/**
 * Every OTP callerpop was asked to deliver, sent or not: rate limits count these, agents see them as risk
 * context, refusals stay visible. The code itself is never stored, only a keyed hash.
 */
export const otpDeliveries = sqliteTable(
  'otp_deliveries',
  {
    id: text('id').primaryKey(),
    /** E.164 when the recipient could be read; otherwise the recipient as given (truncated). */
    recipient: text('recipient').notNull(),
    userId: text('user_id'),
    channel: text('channel', { enum: OTP_CHANNELS }).notNull(),
    /** enrollment, authentication, blocked_account, change_password, password_breach. */
    purpose: text('purpose').notNull(),
    trigger: text('trigger').notNull(),
    status: text('status', { enum: OTP_STATUSES }).notNull(),
    /** Why it was refused or failed (rate_limited_number, country_not_allowed, twilio_21211…). */
    reason: text('reason'),
    /** HMAC-SHA256 of the code; null when the message carried none. */
    codeHash: text('code_hash'),
    twilioSid: text('twilio_sid'),
    country: text('country'),
    numberType: text('number_type'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('otp_deliveries_recipient').on(t.recipient, t.createdAt),
    index('otp_deliveries_user').on(t.userId, t.createdAt),
  ],
);

// --- index watermarks ---

/**
 * The newest event that removed every link of a user from one source ("no SMS factor any more", "the
 * profile phone is now N", user deleted), as of its event time. A link event older than it is refused, so a
 * late, redelivered or out-of-order older event can neither create a link the removal did not name nor bring
 * one back. `keptE164` is the one number the event kept (a profile phone change): that number, at exactly
 * the watermark's time, is the event itself and is allowed.
 */
export const linkWatermarks = sqliteTable(
  'link_watermarks',
  {
    userId: text('user_id').notNull(),
    source: text('source', { enum: PHONE_SOURCES }).notNull(),
    removedAt: integer('removed_at').notNull(),
    keptE164: text('kept_e164'),
  },
  (t) => [primaryKey({ columns: [t.userId, t.source] })],
);

// --- Auth0 log feed ---

/**
 * Log Stream items that could not be applied: a line that is not JSON, a shape callerpop does not know, an
 * event whose apply failed for its content, a batch too large to read. Auth0 re-sends a refused delivery
 * "until the problem is resolved" and pauses the stream after 7 days, so such items are answered 2xx and
 * kept here instead, where an operator can list and replay them (`/api/auth0/held-logs`).
 */
export const heldLogEvents = sqliteTable(
  'held_log_events',
  {
    id: text('id').primaryKey(),
    /** The item's log_id when one could be read; null for a line that is not JSON. */
    logId: text('log_id'),
    /** `stream` (a Log Stream delivery) or `catch-up` (GET /api/v2/logs). */
    origin: text('origin').notNull(),
    /** Why it was kept aside: `not_json`, `unknown_shape`, `no_date`, `apply_failed`, `oversized_batch`. */
    reason: text('reason').notNull(),
    detail: text('detail'),
    /** The item as received, cut to a bounded length (`rawTruncated` says so). */
    raw: text('raw').notNull(),
    rawTruncated: integer('raw_truncated', { mode: 'boolean' }).notNull().default(false),
    receivedAt: integer('received_at').notNull(),
    /** Set when a replay applied it (or found it a duplicate); the row then stays as a record until retention. */
    resolvedAt: integer('resolved_at'),
    resolution: text('resolution'),
  },
  (t) => [index('held_log_events_open').on(t.resolvedAt, t.receivedAt)],
);

/** Named cursors of the feeds callerpop pulls (the Auth0 log catch-up's last applied log_id). */
export const feedCursors = sqliteTable('feed_cursors', {
  name: text('name').primaryKey(),
  value: text('value'),
  /** What the last run did, as JSON, for operators (`GET /api/auth0/log-catch-up`). */
  lastRun: text('last_run'),
  updatedAt: integer('updated_at').notNull(),
});
