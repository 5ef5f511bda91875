import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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
