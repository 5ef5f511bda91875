import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The assembled schema: every feature's tables (each feature keeps its part in its own `schema.ts`), plus the
 * one table every feature shares. drizzle-kit generates the migrations in drizzle/ from this file, and the
 * database client is typed by it. It is the one file of the database layer that imports features.
 */

// Times are integer milliseconds since the epoch: cheap to compare, the same on both runtimes.

export * from '../audit/schema.js';
export * from '../auth0-feed/schema.js';
export * from '../backfill/schema.js';
export * from '../caller-verification/schema.js';
export * from '../console/schema.js';
export * from '../inbound/schema.js';
export * from '../otp/schema.js';
export * from '../phone-index/schema.js';
export * from '../verify-phone/schema.js';

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
