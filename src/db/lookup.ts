import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from './client.js';
import { accounts, type PhoneSource, phoneLinks } from './schema.js';

export interface LinkRow {
  userId: string;
  source: PhoneSource;
  verified: boolean;
  lastSeenAt: number;
  connection: string | null;
  email: string | null;
  name: string | null;
  blocked: boolean | null;
  lastLoginAt: number | null;
  primaryUserId: string | null;
}

/**
 * Every live link for one E.164 number with its account (if the account is known yet).
 * Served by the unique (e164, user_id, source) index: one index range scan, whatever the index size.
 */
export async function findLinksByE164(db: Db, e164: string): Promise<LinkRow[]> {
  return db
    .select({
      userId: phoneLinks.userId,
      source: phoneLinks.source,
      verified: phoneLinks.verified,
      lastSeenAt: phoneLinks.lastSeenAt,
      connection: accounts.connection,
      email: accounts.email,
      name: accounts.name,
      blocked: accounts.blocked,
      lastLoginAt: accounts.lastLoginAt,
      primaryUserId: accounts.primaryUserId,
    })
    .from(phoneLinks)
    .leftJoin(accounts, eq(accounts.userId, phoneLinks.userId))
    .where(and(eq(phoneLinks.e164, e164), isNull(phoneLinks.removedAt), isNull(accounts.deletedAt)));
}
