import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../db/client.js';
import { applyMigrations } from '../db/migrate-node.js';
import {
  type AccountInput,
  type LinkInput,
  removeLinks,
  upsertAccounts,
  upsertLinks,
} from '../phone-index/index.js';
import { commitBatch, type PreparedUser } from './queries.js';

/**
 * The backfill writes with its own SQL (json_each, for speed); these checks hold it to the shared
 * event-time rules of index-writes.ts by applying the same events both ways and comparing the rows.
 */
let dir: string;
const clients: { close(): void }[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callerpop-backfill-db-'));
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(name: string): Promise<Db> {
  const client = createClient({ url: `file:${join(dir, name)}` });
  clients.push(client);
  const db = createDb(client);
  await applyMigrations(db);
  return db;
}

const snapshot = async (db: Db) => ({
  accounts: (await db.$client.execute('select * from accounts order by user_id')).rows.map((r) => ({ ...r })),
  links: (
    await db.$client.execute(
      'select e164, user_id, source, verified, first_seen_at, last_seen_at, event_at, removed_at from phone_links order by e164, user_id, source',
    )
  ).rows.map((r) => ({ ...r })),
  watermarks: (await db.$client.execute('select * from link_watermarks order by user_id, source')).rows.map(
    (r) => ({ ...r }),
  ),
});

type Step =
  | { accounts: AccountInput[]; links: LinkInput[] }
  | { remove: { userId: string; e164?: string; source?: LinkInput['source']; at: number } };

const STEPS: Step[] = [
  {
    accounts: [
      {
        userId: 'a',
        connection: 'db',
        email: 'a@x.com',
        name: 'A',
        blocked: false,
        lastLoginAt: 500,
        at: 1000,
      },
      { userId: 'b', connection: 'sms', email: null, name: null, blocked: null, lastLoginAt: null, at: 1000 },
    ],
    links: [
      { e164: '+14155550101', userId: 'a', source: 'profile', verified: false, at: 1000 },
      { e164: '+14155550102', userId: 'b', source: 'passwordless', verified: true, at: 1000 },
    ],
  },
  // An older event: must not change verified, may widen first_seen.
  {
    accounts: [
      {
        userId: 'a',
        connection: 'db',
        email: 'old@x.com',
        name: 'Old',
        blocked: true,
        lastLoginAt: 100,
        at: 900,
      },
    ],
    links: [{ e164: '+14155550101', userId: 'a', source: 'profile', verified: true, at: 900 }],
  },
  // A newer event with unknown fields: keeps what the index knows, takes the newer verified.
  {
    accounts: [
      { userId: 'a', connection: null, email: null, name: 'A2', blocked: null, lastLoginAt: 2000, at: 2000 },
    ],
    links: [{ e164: '+14155550101', userId: 'a', source: 'profile', verified: true, at: 2000 }],
  },
  { remove: { userId: 'b', e164: '+14155550102', source: 'passwordless', at: 3000 } },
  // Older than the removal: stays removed.
  {
    accounts: [],
    links: [{ e164: '+14155550102', userId: 'b', source: 'passwordless', verified: true, at: 2500 }],
  },
  // Newer than the removal: comes back, with the verified flag it states.
  {
    accounts: [],
    links: [{ e164: '+14155550102', userId: 'b', source: 'passwordless', verified: false, at: 3500 }],
  },
  // Every profile link of `a` removed (no number named): an older link of any number is refused…
  { remove: { userId: 'a', source: 'profile', at: 4000 } },
  {
    accounts: [],
    links: [
      { e164: '+14155550101', userId: 'a', source: 'profile', verified: true, at: 3900 },
      { e164: '+14155550103', userId: 'a', source: 'profile', verified: true, at: 3900 },
    ],
  },
  // …a newer one is written, and a revived link takes the new flag rather than its old one.
  {
    accounts: [],
    links: [
      { e164: '+14155550101', userId: 'a', source: 'profile', verified: false, at: 4100 },
      { e164: '+14155550103', userId: 'a', source: 'profile', verified: false, at: 4100 },
    ],
  },
];

describe('backfill batch writes', () => {
  it('leave exactly the rows the shared index writes leave, event for event', async () => {
    const shared = await open('shared.db');
    const backfill = await open('backfill.db');
    for (const step of STEPS) {
      if ('remove' in step) {
        await removeLinks(shared, step.remove);
        await removeLinks(backfill, step.remove);
        continue;
      }
      await upsertAccounts(shared, step.accounts);
      await upsertLinks(shared, step.links);
      const byUser = new Map<string, PreparedUser>();
      for (const account of step.accounts)
        byUser.set(account.userId, { account, links: [], authoritative: [] });
      for (const link of step.links) {
        const user = byUser.get(link.userId);
        if (user) user.links.push(link);
        else {
          // Links without an account row in this step: write them through a batch of their own.
          await commitBatch(
            backfill,
            batchOf([{ account: { userId: link.userId, at: 0 }, links: [link], authoritative: [] }]),
          );
        }
      }
      if (byUser.size > 0) await commitBatch(backfill, batchOf([...byUser.values()]));
    }
    expect(await snapshot(backfill)).toEqual(await snapshot(shared));
  });
});

function batchOf(users: PreparedUser[]) {
  return {
    runId: 'test',
    line: 0,
    counters: () => ({}),
    users,
    prune: false,
    trackSeen: false,
    dryRun: false,
    now: 0,
  };
}
