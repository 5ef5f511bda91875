import type { Db } from '../db/client.js';
import type { PhoneSource } from '../db/schema.js';
import { type AccountInput, type LinkInput, linkRow, upsertLinksSql } from '../phone-index/index.js';

/**
 * The backfill's writes. A batch of whole users is one transaction: accounts, links, removals and the
 * run's checkpoint commit together or not at all, so a kill loses at most the batch in flight and never
 * leaves half a user. Writes go through the shared event-time rules of index-writes.ts. A run's lifecycle
 * (create, resume, abandon, finish with the sweep of missing users) is in backfill-runs.ts.
 */

export interface PreparedUser {
  account: AccountInput;
  links: LinkInput[];
  /** Sources this input speaks for completely, with the time removals are dated (prune scope). */
  authoritative: { source: PhoneSource; at: number }[];
}

export interface BatchChanges {
  added: number;
  updated: number;
  removed: number;
  /** Live links the input says are gone, left in place because pruning is off. */
  stale: number;
}

export interface BatchCommit {
  runId: string;
  line: number;
  /** The run's counters including this batch's changes: saved with the checkpoint. */
  counters: (changes: BatchChanges) => unknown;
  users: PreparedUser[];
  prune: boolean;
  /** Remember the users for the end-of-run sweep of users missing from the export. */
  trackSeen: boolean;
  dryRun: boolean;
  now: number;
}

type Value = string | number | null;
type Tx = Awaited<ReturnType<Db['$client']['transaction']>>;

const key = (e164: string, source: string) => `${e164}\u0000${source}`;
const bool = (v: boolean | null | undefined): Value => (v === undefined || v === null ? null : v ? 1 : 0);

/*
 * The same upserts as upsertAccounts / upsertLinks in index-writes.ts (same conflict targets, same
 * event-time rules; src/backfill/queries.test.ts checks they leave identical rows), written as plain SQL
 * over json_each: one small constant statement per batch, the rows bound as one JSON array.
 * - drizzle's builder spent more CPU per row than SQLite itself (≈2.5 s per 200k users in its
 *   per-parameter entity checks);
 * - a 500-row `values (?,…),…` statement compiles to a large program that @libsql/client never finalizes
 *   (it waits for GC, which does not see native memory): peak RSS passed 450 MB on 1M users.
 */
const col = (i: number) => `j.value ->> ${i}`;
const UPSERT_ACCOUNTS = `insert into accounts (user_id, connection, email, name, blocked, last_login_at, primary_user_id, created_at, updated_at)
   select ${[0, 1, 2, 3, 4, 5, 6, 7, 7].map(col).join(', ')} from json_each(?) j where true
   on conflict (user_id) do update set
     connection = coalesce(excluded.connection, accounts.connection),
     email = coalesce(excluded.email, accounts.email),
     name = coalesce(excluded.name, accounts.name),
     blocked = coalesce(excluded.blocked, accounts.blocked),
     last_login_at = max(coalesce(excluded.last_login_at, 0), coalesce(accounts.last_login_at, 0)),
     primary_user_id = coalesce(excluded.primary_user_id, accounts.primary_user_id),
     updated_at = excluded.updated_at
   where excluded.updated_at >= accounts.updated_at`;

/** The shared statement itself: same watermark, revival and verified rules by construction. */
const UPSERT_LINKS = upsertLinksSql(true);

const INSERT_SEEN = 'insert or ignore into backfill_seen (run_id, user_id) select ?, value from json_each(?)';

/** removeLinks for one known link: only a live link whose newest event is not newer than the removal. */
const REMOVE_LINK = `update phone_links set removed_at = ?, event_at = ?
   where user_id = ? and e164 = ? and source = ? and removed_at is null and event_at <= ?`;

/** Writes one batch and moves the checkpoint; with `dryRun` computes the same changes and rolls back. */
export async function commitBatch(db: Db, batch: BatchCommit): Promise<BatchChanges> {
  const tx = await db.$client.transaction('write');
  try {
    const changes = await diffAndRemove(tx, batch);
    const accountRows = batch.users.map(({ account: a }) => [
      a.userId,
      a.connection ?? null,
      a.email ?? null,
      a.name ?? null,
      bool(a.blocked),
      a.lastLoginAt ?? null,
      a.primaryUserId ?? null,
      a.at,
    ]);
    if (accountRows.length > 0)
      await tx.execute({ sql: UPSERT_ACCOUNTS, args: [JSON.stringify(accountRows)] });
    const linkRows = batch.users.flatMap((u) => u.links.map(linkRow));
    if (linkRows.length > 0) await tx.execute({ sql: UPSERT_LINKS, args: [JSON.stringify(linkRows)] });
    if (batch.trackSeen) await insertSeen(tx, batch);
    if (batch.dryRun) {
      await tx.rollback();
      // The seen users are bookkeeping for the end-of-run count, not the index: a dry run keeps them.
      if (batch.trackSeen) await insertSeen(db, batch);
      batch.counters(changes);
      return changes;
    }
    await tx.execute({
      sql: 'update backfill_runs set line = ?, counters = ?, updated_at = ? where id = ?',
      args: [batch.line, JSON.stringify(batch.counters(changes)), batch.now, batch.runId],
    });
    await tx.commit();
    return changes;
  } finally {
    tx.close();
  }
}

async function insertSeen(db: Db | Tx, batch: BatchCommit): Promise<void> {
  const ids = JSON.stringify(batch.users.map((u) => u.account.userId));
  const client = '$client' in db ? db.$client : db;
  await client.execute({ sql: INSERT_SEEN, args: [batch.runId, ids] });
}

interface LinkState {
  e164: string;
  source: string;
  verified: boolean;
  eventAt: number;
  removedAt: number | null;
}

async function existingLinks(tx: Tx, userIds: string[]): Promise<Map<string, Map<string, LinkState>>> {
  const existing = new Map<string, Map<string, LinkState>>();
  {
    const result = await tx.execute({
      sql: 'select user_id, e164, source, verified, event_at, removed_at from phone_links where user_id in (select value from json_each(?))',
      args: [JSON.stringify(userIds)],
    });
    for (const r of result.rows) {
      const userId = String(r.user_id);
      const byKey = existing.get(userId) ?? new Map<string, LinkState>();
      existing.set(userId, byKey);
      const link: LinkState = {
        e164: String(r.e164),
        source: String(r.source),
        verified: Number(r.verified) === 1,
        eventAt: Number(r.event_at),
        removedAt: r.removed_at === null ? null : Number(r.removed_at),
      };
      byKey.set(key(link.e164, link.source), link);
    }
  }
  return existing;
}

/** The batch users' link watermarks (see linkWatermarks), keyed by user and source. */
async function watermarks(
  tx: Tx,
  userIds: string[],
): Promise<Map<string, { at: number; kept: string | null }>> {
  const result = await tx.execute({
    sql: 'select user_id, source, removed_at, kept_e164 from link_watermarks where user_id in (select value from json_each(?))',
    args: [JSON.stringify(userIds)],
  });
  const out = new Map<string, { at: number; kept: string | null }>();
  for (const r of result.rows)
    out.set(key(String(r.user_id), String(r.source)), {
      at: Number(r.removed_at),
      kept: r.kept_e164 === null ? null : String(r.kept_e164),
    });
  return out;
}

async function diffAndRemove(tx: Tx, batch: BatchCommit): Promise<BatchChanges> {
  const changes: BatchChanges = { added: 0, updated: 0, removed: 0, stale: 0 };
  const userIds = batch.users.map((u) => u.account.userId);
  const existing = await existingLinks(tx, userIds);
  const marks = await watermarks(tx, userIds);
  // The upsert refuses these (upsertLinksSql): they change nothing, so they count as nothing.
  const refused = (link: LinkInput) => {
    const mark = marks.get(key(link.userId, link.source));
    return mark !== undefined && (mark.at > link.at || (mark.at === link.at && mark.kept !== link.e164));
  };
  for (const user of batch.users) {
    const userId = user.account.userId;
    const current = existing.get(userId);
    const wanted = new Set<string>();
    for (const link of user.links) {
      const k = key(link.e164, link.source);
      if (wanted.has(k)) continue;
      wanted.add(k);
      if (refused(link)) continue;
      const row = current?.get(k);
      if (!row) changes.added += 1;
      else if (row.removedAt !== null) {
        if (link.at > row.removedAt) changes.added += 1;
      } else if (link.verified !== undefined && link.verified !== row.verified && link.at >= row.eventAt) {
        changes.updated += 1;
      }
    }
    if (!current) continue;
    for (const [k, row] of current) {
      if (row.removedAt !== null || wanted.has(k)) continue;
      const scope = user.authoritative.find((a) => a.source === row.source);
      if (!scope || row.eventAt > scope.at) continue;
      if (!batch.prune) {
        changes.stale += 1;
        continue;
      }
      const result = await tx.execute({
        sql: REMOVE_LINK,
        args: [scope.at, scope.at, userId, row.e164, row.source, scope.at],
      });
      changes.removed += result.rowsAffected;
    }
  }
  return changes;
}
