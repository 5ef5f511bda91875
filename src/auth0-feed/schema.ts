import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
