import { getTableConfig } from 'drizzle-orm/sqlite-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../test/support/context.js';
import { accounts, interactions, phoneLinks, processedEvents } from '../db/schema.js';
import {
  advanceCallStatusStatement,
  claimEventsStatement,
  findInteractionsStatement,
  findLinksStatement,
  INTERACTION_COLUMNS,
  insertInteractionsStatement,
  LINK_COLUMNS,
} from './recorder-queries.js';

/**
 * The hot path's hand-written SQL, bound to the schema: every statement (at several batch sizes) must
 * prepare against the migrated database, and its column lists must name exactly the columns schema.ts
 * declares, so a schema change that one of them misses fails here rather than in a webhook.
 */

let ctx: TestContext;
afterEach(() => ctx?.close());

const columnsOf = (table: Parameters<typeof getTableConfig>[0]) =>
  getTableConfig(table).columns.map((c) => c.name);
const listed = (columns: string) => columns.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '');

const record = (sid: string) => ({
  id: `id-${sid}`,
  channel: 'sms' as const,
  twilioSid: sid,
  rawFrom: '+14155550100',
  e164: '+14155550100',
  fromReason: null,
  toNumber: null,
  stirVerstat: null,
  status: 'received',
  matches: [],
  flags: {},
  callerVerification: 'not_attempted',
  createdAt: 1,
  updatedAt: 1,
});

describe('the hot path’s SQL', () => {
  it('lists every column of interactions, in the schema’s names', () => {
    expect(listed(INTERACTION_COLUMNS).sort()).toEqual(columnsOf(interactions).sort());
  });

  it('reads link and account columns that exist', () => {
    const known = new Set([
      ...columnsOf(phoneLinks).map((c) => `pl.${c}`),
      ...columnsOf(accounts).map((c) => `a.${c}`),
    ]);
    const plain = listed(LINK_COLUMNS).filter((c) => /^(pl|a)\./.test(c));
    expect(plain.length).toBeGreaterThan(8);
    for (const column of plain) expect(known, column).toContain(column);
    expect(columnsOf(processedEvents)).toEqual(
      expect.arrayContaining(['source', 'event_id', 'received_at', 'response']),
    );
  });

  it.each([1, 3])('prepares against the migrated database, batches of %i', async (n) => {
    ctx = await createTestContext();
    const sids = Array.from({ length: n }, (_, i) => `SM${i}`);
    const statements = [
      findLinksStatement(sids.map((_, i) => `+1415555010${i}`)),
      insertInteractionsStatement(sids.map(record)),
      claimEventsStatement(sids.map((sid) => ({ source: 'twilio', eventId: sid, response: '', at: 1 }))),
      findInteractionsStatement(sids),
      advanceCallStatusStatement('CA1', 'completed', 3, 1),
    ];
    for (const s of statements)
      await expect(
        ctx.deps.db.$client.execute({ sql: `explain ${s.sql}`, args: [...s.args] }),
      ).resolves.toBeDefined();
  });

  it('runs the same on the prepared runner and on the client', async () => {
    ctx = await createTestContext();
    const insert = insertInteractionsStatement([record('SMx')]);
    const [created] = await ctx.deps.sql.writeBatch([insert]);
    expect(created).toEqual([{ twilio_sid: 'SMx' }]);
    expect(await ctx.deps.sql.writeBatch([insert])).toEqual([[]]);
    const rows = (
      await ctx.deps.db.$client.execute({ sql: findInteractionsStatement(['SMx']).sql, args: ['SMx'] })
    ).rows;
    expect(rows).toHaveLength(1);
    expect(await ctx.deps.sql.all(findInteractionsStatement(['SMx']))).toMatchObject([
      { twilio_sid: 'SMx', status: 'received' },
    ]);
  });
});
