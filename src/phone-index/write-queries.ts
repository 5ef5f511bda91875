import { and, eq, isNull, lte, ne, sql } from 'drizzle-orm';
import type { Writer } from '../db/client.js';
import { accounts, PHONE_SOURCES, type PhoneSource, phoneLinks } from '../db/schema.js';

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
 * The phone_links upsert, shared with the backfill (src/backfill/queries.ts binds the same statement): rows are
 * one JSON array of `[e164, userId, source, verified 0|1, at]`, read with json_each.
 * - A row older than its (user, source) watermark is refused (see linkWatermarks).
 * - A link removed by a newer event stays removed; one removed by an older event comes back, and then takes
 *   the row's verified flag (false unless stated): a number that went away and came back is not the
 *   verified number it used to be.
 * - Otherwise `verified` is only changed by rows that state it (`statesVerified`), and only by a newer event.
 */
export function upsertLinksSql(statesVerified: boolean): string {
  const v = (i: number) => `j.value ->> ${i}`;
  const revived = 'phone_links.removed_at is not null and excluded.event_at > phone_links.removed_at';
  const verified = statesVerified
    ? `case when ${revived} or excluded.event_at >= phone_links.event_at then excluded.verified else phone_links.verified end`
    : `case when ${revived} then excluded.verified else phone_links.verified end`;
  return `insert into phone_links (e164, user_id, source, verified, first_seen_at, last_seen_at, event_at)
   select ${[0, 1, 2, 3, 4, 4, 4].map(v).join(', ')} from json_each(?) j
   where not exists (select 1 from link_watermarks w where w.user_id = ${v(1)} and w.source = ${v(2)}
     and (w.removed_at > ${v(4)} or (w.removed_at = ${v(4)} and w.kept_e164 is not ${v(0)})))
   on conflict (e164, user_id, source) do update set
     verified = ${verified},
     last_seen_at = max(phone_links.last_seen_at, excluded.last_seen_at),
     first_seen_at = min(phone_links.first_seen_at, excluded.first_seen_at),
     removed_at = case when ${revived} then null else phone_links.removed_at end,
     event_at = max(phone_links.event_at, excluded.event_at)`;
}

/** One JSON row of upsertLinksSql. */
export const linkRow = (r: LinkInput) => [r.e164, r.userId, r.source, r.verified ? 1 : 0, r.at];

/** Binds a statement with one `json_each(?)` through drizzle (a plain Db or a transaction). */
function withJson(statement: string, json: string) {
  const [head, tail] = statement.split('json_each(?)');
  return sql`${sql.raw(head ?? '')}json_each(${json})${sql.raw(tail ?? '')}`;
}

/**
 * Inserts or refreshes phone links (rules at upsertLinksSql). Rows older than a removal of every link of
 * their user and source are refused.
 */
export async function upsertLinks(db: Writer, rows: readonly LinkInput[]): Promise<void> {
  const stated = rows.filter((r) => r.verified !== undefined);
  const unstated = rows.filter((r) => r.verified === undefined);
  for (const [group, statesVerified] of [
    [stated, true],
    [unstated, false],
  ] as const) {
    for (const chunk of chunks(group)) {
      await db.run(withJson(upsertLinksSql(statesVerified), JSON.stringify(chunk.map(linkRow))));
    }
  }
}

/**
 * How a (user, source) watermark is raised: never lowered; when two removals share a time and disagree on
 * the kept number, neither is kept. Shared with the backfill's prune of users missing from an export.
 */
export const WATERMARK_CONFLICT = `on conflict (user_id, source) do update set
     kept_e164 = case
       when excluded.removed_at > link_watermarks.removed_at then excluded.kept_e164
       when excluded.removed_at = link_watermarks.removed_at and link_watermarks.kept_e164 is not excluded.kept_e164 then null
       else link_watermarks.kept_e164 end,
     removed_at = max(link_watermarks.removed_at, excluded.removed_at)`;

const RAISE_WATERMARKS_SQL = `insert into link_watermarks (user_id, source, removed_at, kept_e164)
   select j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 from json_each(?) j where true
   ${WATERMARK_CONFLICT}`;

async function raiseWatermarks(
  db: Writer,
  userId: string,
  sources: readonly PhoneSource[],
  at: number,
  keep: string | null,
): Promise<void> {
  const rows = sources.map((source) => [userId, source, at, keep]);
  await db.run(withJson(RAISE_WATERMARKS_SQL, JSON.stringify(rows)));
}

/**
 * The user's links of `source` are exactly `keep` (or none) as of `at` — a profile phone change: every other
 * link of the source not newer than `at` is removed, `keep` is upserted (its verified flag untouched when it
 * was live), and the watermark makes any older event of the source a no-op, so it can never bring back a
 * previous number. Returns the number of links removed.
 */
export async function replaceLinks(
  db: Writer,
  change: { userId: string; source: PhoneSource; keep?: string; at: number },
): Promise<number> {
  const { userId, source, at } = change;
  const keep = change.keep ?? null;
  await raiseWatermarks(db, userId, [source], at, keep);
  const where = [
    eq(phoneLinks.userId, userId),
    eq(phoneLinks.source, source),
    isNull(phoneLinks.removedAt),
    lte(phoneLinks.eventAt, at),
  ];
  if (keep) where.push(ne(phoneLinks.e164, keep));
  const removed = await db
    .update(phoneLinks)
    .set({ removedAt: at, eventAt: at })
    .where(and(...where))
    .returning({ id: phoneLinks.id });
  if (keep) await upsertLinks(db, [{ e164: keep, userId, source, at }]);
  return removed.length;
}

/**
 * Marks links removed as of `at`. When the number and source are known and no link exists yet (the removal
 * arrived before the enrollment), a tombstone is written so the late enrollment cannot create it. Without a
 * number the removal covers every link of the source(s), including ones whose older events arrive later:
 * the watermark refuses them.
 */
export async function removeLinks(db: Writer, removal: LinkRemoval): Promise<number> {
  if (!removal.e164)
    await raiseWatermarks(
      db,
      removal.userId,
      removal.source ? [removal.source] : PHONE_SOURCES,
      removal.at,
      null,
    );
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
