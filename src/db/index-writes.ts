import { and, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { accounts, type PhoneSource, phoneLinks } from './schema.js';

/**
 * Writes to the phone index. The Auth0 feed (Actions, Log Streams) and the backfill all come through here,
 * so ordering rules live in one place: every write carries the time of the event it comes from, and an
 * older event never overwrites a newer one (Log Streams are at-least-once and unordered).
 */

export interface AccountInput {
  userId: string;
  /** Undefined or null: unknown, keep what the index has. */
  connection?: string | null;
  email?: string | null;
  name?: string | null;
  blocked?: boolean | null;
  lastLoginAt?: number | null;
  primaryUserId?: string | null;
  /** Event time in ms: when Auth0 reported this state. */
  at: number;
}

export interface LinkInput {
  e164: string;
  userId: string;
  source: PhoneSource;
  /** Undefined: keep the current flag (false for a new link). */
  verified?: boolean;
  /** Event time in ms. */
  at: number;
}

export interface LinkRemoval {
  userId: string;
  /** Omit to remove every number of the user (user deleted). */
  e164?: string;
  /** Omit to remove the number whatever its source. */
  source?: PhoneSource;
  at: number;
}

/** Rows per multi-row INSERT: far below SQLite's variable limit, big enough to amortize statements. */
export const WRITE_CHUNK = 500;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Writer = Db | Tx;

function chunks<T>(rows: readonly T[], size = WRITE_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const keep = (column: string) => sql.raw(`coalesce(excluded.${column}, accounts.${column})`);
const newer = sql`excluded.updated_at >= accounts.updated_at`;

/** Inserts or refreshes accounts; fields left undefined keep their value. */
export async function upsertAccounts(db: Writer, rows: readonly AccountInput[]): Promise<void> {
  for (const chunk of chunks(rows)) {
    await db
      .insert(accounts)
      .values(
        chunk.map((r) => ({
          userId: r.userId,
          connection: r.connection ?? null,
          email: r.email ?? null,
          name: r.name ?? null,
          blocked: r.blocked ?? null,
          lastLoginAt: r.lastLoginAt ?? null,
          primaryUserId: r.primaryUserId ?? null,
          createdAt: r.at,
          updatedAt: r.at,
        })),
      )
      .onConflictDoUpdate({
        target: accounts.userId,
        set: {
          connection: keep('connection'),
          email: keep('email'),
          name: keep('name'),
          blocked: keep('blocked'),
          lastLoginAt: sql`max(coalesce(excluded.last_login_at, 0), coalesce(accounts.last_login_at, 0))`,
          primaryUserId: keep('primary_user_id'),
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: newer,
      });
  }
}

/**
 * Inserts or refreshes phone links. A link removed by a newer event stays removed; one removed by an older
 * event comes back. `verified` is only changed by rows that state it, and only by a newer event.
 */
export async function upsertLinks(db: Writer, rows: readonly LinkInput[]): Promise<void> {
  const stated = rows.filter((r) => r.verified !== undefined);
  const unstated = rows.filter((r) => r.verified === undefined);
  for (const [group, setsVerified] of [
    [stated, true],
    [unstated, false],
  ] as const) {
    for (const chunk of chunks(group)) {
      await db
        .insert(phoneLinks)
        .values(
          chunk.map((r) => ({
            e164: r.e164,
            userId: r.userId,
            source: r.source,
            verified: r.verified ?? false,
            firstSeenAt: r.at,
            lastSeenAt: r.at,
            eventAt: r.at,
          })),
        )
        .onConflictDoUpdate({
          target: [phoneLinks.e164, phoneLinks.userId, phoneLinks.source],
          set: {
            ...(setsVerified
              ? {
                  verified: sql`case when excluded.event_at >= phone_links.event_at then excluded.verified else phone_links.verified end`,
                }
              : {}),
            lastSeenAt: sql`max(phone_links.last_seen_at, excluded.last_seen_at)`,
            firstSeenAt: sql`min(phone_links.first_seen_at, excluded.first_seen_at)`,
            removedAt: sql`case when phone_links.removed_at is not null and excluded.event_at > phone_links.removed_at then null else phone_links.removed_at end`,
            eventAt: sql`max(phone_links.event_at, excluded.event_at)`,
          },
        });
    }
  }
}

/**
 * Marks links removed as of `at`. When the number and source are known and no link exists yet (the removal
 * arrived before the enrollment), a tombstone is written so the late enrollment cannot create it.
 */
export async function removeLinks(db: Writer, removal: LinkRemoval): Promise<number> {
  const where = [
    eq(phoneLinks.userId, removal.userId),
    isNull(phoneLinks.removedAt),
    lte(phoneLinks.eventAt, removal.at),
  ];
  if (removal.e164) where.push(eq(phoneLinks.e164, removal.e164));
  if (removal.source) where.push(eq(phoneLinks.source, removal.source));
  const removed = await db
    .update(phoneLinks)
    .set({ removedAt: removal.at, eventAt: removal.at })
    .where(and(...where))
    .returning({ id: phoneLinks.id });

  if (removed.length === 0 && removal.e164 && removal.source) {
    await db
      .insert(phoneLinks)
      .values({
        e164: removal.e164,
        userId: removal.userId,
        source: removal.source,
        verified: false,
        firstSeenAt: removal.at,
        lastSeenAt: removal.at,
        eventAt: removal.at,
        removedAt: removal.at,
      })
      .onConflictDoNothing();
  }
  return removed.length;
}
