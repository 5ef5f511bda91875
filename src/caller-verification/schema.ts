import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
