import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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
