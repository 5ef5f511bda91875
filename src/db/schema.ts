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
    index('interactions_updated').on(t.updatedAt),
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
    status: text('status', { enum: ['running', 'completed', 'failed'] }).notNull(),
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
