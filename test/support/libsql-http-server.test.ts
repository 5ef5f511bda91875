import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Client,
  createClient,
  LibsqlBatchError,
  LibsqlError,
  type Transaction,
} from '@libsql/client/web';
import { eq } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { drizzle } from 'drizzle-orm/libsql/web';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LibsqlHttpServer, startLibsqlHttpServer } from './libsql-http-server.js';

// Everything goes through the real `@libsql/client/web` (fetch-based, the one the Worker bundles), except
// the protocol corners that client never sends, which are driven with raw Hrana JSON.
const TOKEN = 'test-token';
let server: LibsqlHttpServer;
let db: Client;

beforeAll(async () => {
  server = await startLibsqlHttpServer({ authToken: TOKEN });
  db = createClient({ url: server.url, authToken: TOKEN });
});

afterAll(async () => {
  db.close();
  await server.close();
});

async function count(table: string, client: Pick<Transaction, 'execute'> = db): Promise<number> {
  return Number((await client.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
}

async function hrana(version: 2 | 3, request: unknown, target = { url: '', token: TOKEN }) {
  const res = await fetch(`${target.url || server.url}/v${version}/pipeline`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const text = await res.text();
  const body: unknown = res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text;
  return { status: res.status, body };
}

const execute = (sql: string) => ({ type: 'execute', stmt: { sql } });
const ok = (response: unknown) => ({ type: 'ok', response });

describe('libSQL HTTP test server, driven by @libsql/client/web', () => {
  it('executes statements with positional and named arguments', async () => {
    await db.execute('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)');
    const inserted = await db.execute({
      sql: 'INSERT INTO people (name, age) VALUES (?, ?)',
      args: ['Ada', 36],
    });
    expect(inserted.rowsAffected).toBe(1);
    expect(inserted.lastInsertRowid).toBe(1n);
    await db.execute({
      sql: 'INSERT INTO people (name, age) VALUES (:name, @age)',
      args: { name: 'Grace', age: 45 },
    });
    await db.execute({
      sql: 'INSERT INTO people (name, age) VALUES ($n, :a)',
      args: { $n: 'Linus', ':a': 54 },
    });

    const rs = await db.execute({
      sql: 'SELECT name, age FROM people WHERE age > ? ORDER BY id',
      args: [40],
    });
    expect(rs.columns).toEqual(['name', 'age']);
    expect(rs.columnTypes).toEqual(['TEXT', 'INTEGER']);
    expect(rs.rows.map((r) => [r.name, r.age])).toEqual([
      ['Grace', 45],
      ['Linus', 54],
    ]);
    // like sqld: no affected rows or rowid for a SELECT, even though SQLite's changes() still says 1
    expect(rs.rowsAffected).toBe(0);
    expect(rs.lastInsertRowid).toBeUndefined();
    const updated = await db.execute('UPDATE people SET age = age + 1');
    expect([updated.rowsAffected, updated.lastInsertRowid]).toEqual([3, undefined]);
  });

  it('round-trips every value type, with 64-bit integers as bigint', async () => {
    const big = createClient({ url: server.url, authToken: TOKEN, intMode: 'bigint' });
    await big.execute('CREATE TABLE vals (i INTEGER, f REAL, t TEXT, b BLOB, n)');
    const ints = [9007199254740993n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (const i of ints) {
      await big.execute({
        sql: 'INSERT INTO vals VALUES (?, ?, ?, ?, ?)',
        args: [i, 1.5, 'héllo ☎ "quoted"', new Uint8Array([0, 255, 7]), null],
      });
    }
    const rs = await big.execute('SELECT i, f, t, b, n, typeof(i) AS ti FROM vals ORDER BY rowid');
    expect(rs.rows.map((r) => r.i)).toEqual(ints);
    const row = rs.rows[0];
    expect(row?.f).toBe(1.5);
    expect(row?.t).toBe('héllo ☎ "quoted"');
    expect(new Uint8Array(row?.b as ArrayBuffer)).toEqual(new Uint8Array([0, 255, 7]));
    expect(row?.n).toBeNull();
    expect(row?.ti).toBe('integer');
    big.close();
  });

  it('makes batch() atomic: one failing statement rolls back the others', async () => {
    await db.batch(
      [
        'CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)',
        "INSERT INTO accounts VALUES ('a', 100), ('b', 0)",
      ],
      'write',
    );
    const transfer = db.batch(
      [
        "UPDATE accounts SET balance = balance - 10 WHERE id = 'a'",
        "INSERT INTO accounts VALUES ('a', 1)",
        "UPDATE accounts SET balance = balance + 10 WHERE id = 'b'",
      ],
      'write',
    );
    await expect(transfer).rejects.toBeInstanceOf(LibsqlBatchError);
    await expect(transfer).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT', statementIndex: 1 });
    const rs = await db.execute('SELECT id, balance FROM accounts ORDER BY id');
    expect(rs.rows.map((r) => [r.id, r.balance])).toEqual([
      ['a', 100],
      ['b', 0],
    ]);
  });

  it('runs interactive transactions across requests, with commit and rollback', async () => {
    await db.execute('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const tx = await db.transaction('write');
    await tx.execute({ sql: 'INSERT INTO notes (body) VALUES (?)', args: ['kept'] });
    expect(await count('notes', tx)).toBe(1);
    expect(await count('notes')).toBe(0); // other streams read the last committed snapshot
    await expect(tx.execute('INSERT INTO missing VALUES (1)')).rejects.toThrow(/no such table/);
    await tx.execute({ sql: 'INSERT INTO notes (body) VALUES (?)', args: ['kept too'] }); // still open
    await tx.commit();
    expect(await count('notes')).toBe(2);

    const dropped = await db.transaction('write');
    await dropped.batch([{ sql: 'INSERT INTO notes (body) VALUES (?)', args: ['dropped'] }]);
    await dropped.rollback();
    expect(await count('notes')).toBe(2);
  });

  it('runs executeMultiple statement by statement, including trigger bodies, and stops at an error', async () => {
    await db.executeMultiple(`
      CREATE TABLE m1 (x TEXT); CREATE TABLE m1_log (x TEXT);
      CREATE TRIGGER m1_audit AFTER INSERT ON m1 BEGIN INSERT INTO m1_log VALUES (new.x || ';'); END;
      INSERT INTO m1 VALUES ('a;b'); -- a comment; not a statement
    `);
    expect((await db.execute('SELECT x FROM m1_log')).rows.map((r) => r.x)).toEqual(['a;b;']);
    await expect(
      db.executeMultiple("INSERT INTO m1 VALUES ('1'); SELEC; INSERT INTO m1 VALUES ('2')"),
    ).rejects.toThrow(/syntax error/);
    expect((await db.execute('SELECT x FROM m1 ORDER BY rowid')).rows.map((r) => r.x)).toEqual(['a;b', '1']);
  });

  it('reports SQL errors as LibsqlError with sqld codes and messages', async () => {
    const syntax = db.execute('SELEC 1');
    await expect(syntax).rejects.toBeInstanceOf(LibsqlError);
    await expect(syntax).rejects.toMatchObject({
      code: 'SQLITE_ERROR',
      message: expect.stringMatching(/syntax error/),
    });
    await expect(db.execute('SELECT 1; SELECT 2')).rejects.toMatchObject({ code: 'SQL_MANY_STATEMENTS' });
    await expect(db.execute('-- nothing')).rejects.toMatchObject({ code: 'SQL_NO_STATEMENT' });
  });

  it('requires the auth token when one is configured', async () => {
    for (const authToken of ['wrong', undefined]) {
      const client = createClient({ url: server.url, ...(authToken ? { authToken } : {}) });
      await expect(client.execute('SELECT 1')).rejects.toThrow(/401/);
      client.close();
    }
  });

  it('serves drizzle-orm/libsql/web: migrator, insert, select, batch and transaction', async () => {
    const users = sqliteTable('d_users', {
      id: integer('id').primaryKey({ autoIncrement: true }),
      name: text('name').notNull(),
      phone: text('phone').unique(),
    });
    const dir = await mkdtemp(join(tmpdir(), 'drizzle-'));
    await mkdir(join(dir, 'meta'));
    const entry = { idx: 0, version: '6', when: 1_700_000_000_000, tag: '0000_init', breakpoints: true };
    await writeFile(
      join(dir, 'meta/_journal.json'),
      JSON.stringify({ version: '7', dialect: 'sqlite', entries: [entry] }),
    );
    await writeFile(
      join(dir, '0000_init.sql'),
      'CREATE TABLE d_users (id integer PRIMARY KEY AUTOINCREMENT, name text NOT NULL, phone text);\n' +
        '--> statement-breakpoint\nCREATE UNIQUE INDEX d_users_phone_unique ON d_users (phone);',
    );
    const orm = drizzle(db);
    await migrate(orm, { migrationsFolder: dir });
    await rm(dir, { recursive: true });

    await orm.insert(users).values({ name: 'Ada', phone: '+15550001' });
    expect(await orm.select().from(users).where(eq(users.phone, '+15550001'))).toEqual([
      { id: 1, name: 'Ada', phone: '+15550001' },
    ]);
    await expect(
      orm.batch([
        orm.insert(users).values({ name: 'Bob', phone: '+15550002' }),
        orm.insert(users).values({ name: 'Dup', phone: '+15550001' }),
      ]),
    ).rejects.toThrow();
    await expect(
      orm.transaction(async (tx) => {
        await tx.insert(users).values({ name: 'Eve', phone: '+15550003' });
        tx.rollback();
      }),
    ).rejects.toThrow(/rollback/i);
    expect((await orm.select({ name: users.name }).from(users)).map((u) => u.name)).toEqual(['Ada']);
  });

  it('serializes concurrent interactive transactions without lost updates', async () => {
    await db.execute('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await db.execute('INSERT INTO counter VALUES (1, 0)');
    const increment = async () => {
      const tx = await db.transaction('write');
      const n = Number((await tx.execute('SELECT n FROM counter WHERE id = 1')).rows[0]?.n);
      await sleep(5); // give the others a chance to interleave
      await tx.execute({ sql: 'UPDATE counter SET n = ? WHERE id = 1', args: [n + 1] });
      await tx.commit();
    };
    await Promise.all(Array.from({ length: 5 }, increment));
    expect(Number((await db.execute('SELECT n FROM counter')).rows[0]?.n)).toBe(5);
  });

  it('shares one database between the HTTP side and the engine-side client, and counts requests', async () => {
    const before = server.requests;
    await db.execute('CREATE TABLE seen (x TEXT)');
    await server.client.execute("INSERT INTO seen VALUES ('seeded from node')");
    expect((await db.execute('SELECT x FROM seen')).rows.map((r) => r.x)).toEqual(['seeded from node']);
    expect(server.requests).toBe(before + 2);
  });
});

describe('libSQL HTTP test server, lock and stream limits', () => {
  it('fails a waiting writer with SQLITE_BUSY after busyTimeoutMs, and expires idle streams', async () => {
    const small = await startLibsqlHttpServer({ busyTimeoutMs: 50, streamTimeoutMs: 300 });
    const client = createClient({ url: small.url });
    await client.execute('CREATE TABLE t (x INTEGER)');
    const holder = await client.transaction('write');
    await holder.execute('INSERT INTO t VALUES (1)');
    const waiter = await client.transaction('write');
    await expect(waiter.execute('INSERT INTO t VALUES (2)')).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    await holder.commit();
    expect(await count('t', client)).toBe(1);

    const abandoned = await client.transaction('write');
    await abandoned.execute('INSERT INTO t VALUES (3)');
    await sleep(600);
    await expect(abandoned.execute('SELECT 1')).rejects.toMatchObject({ code: 'STREAM_EXPIRED' });
    await client.execute('INSERT INTO t VALUES (4)'); // the write lock was released with the stream

    // a statement that gave up with SQLITE_BUSY must not break later commits on the same stream
    const target = { url: small.url, token: '' };
    const holder2 = await client.transaction('write');
    await holder2.execute('INSERT INTO t VALUES (5)');
    const busy = await hrana(2, { requests: [execute('INSERT INTO t VALUES (6)')] }, target);
    expect(busy.body).toMatchObject({ results: [{ type: 'error', error: { code: 'SQLITE_BUSY' } }] });
    await holder2.rollback();
    const { baton } = busy.body as { baton: unknown };
    const later = ['BEGIN', 'INSERT INTO t VALUES (7)', 'COMMIT'].map(execute);
    const retried = await hrana(2, { baton, requests: [...later, { type: 'close' }] }, target);
    expect(retried.body).toMatchObject({ results: [ok({}), ok({}), ok({}), ok({ type: 'close' })] });
    expect((await client.execute('SELECT x FROM t ORDER BY x')).rows.map((r) => r.x)).toEqual([1, 4, 7]);
    client.close();
    await small.close();
  });
});

describe('libSQL HTTP test server, raw Hrana requests @libsql/client 0.18 never sends', () => {
  it('evaluates batch conditions, get_autocommit, describe and stored SQL on /v3/pipeline', async () => {
    const integer = (value: string) => ({ type: 'integer', value });
    const { status, body } = await hrana(3, {
      requests: [
        { type: 'store_sql', sql_id: 1, sql: 'SELECT ? + 1 AS n' },
        {
          type: 'batch',
          batch: {
            steps: [
              { stmt: { sql: 'BEGIN' } },
              { condition: { type: 'is_autocommit' }, stmt: { sql: 'SELECT 1' } },
              { condition: { type: 'not', cond: { type: 'is_autocommit' } }, stmt: { sql: 'SELEC' } },
              { condition: { type: 'error', step: 2 }, stmt: { sql_id: 1, args: [integer('41')] } },
              {
                condition: {
                  type: 'and',
                  conds: [
                    { type: 'ok', step: 3 },
                    { type: 'error', step: 1 },
                  ],
                },
                stmt: { sql: 'ROLLBACK' },
              },
              {
                condition: {
                  type: 'or',
                  conds: [
                    { type: 'ok', step: 1 },
                    { type: 'ok', step: 2 },
                  ],
                },
                stmt: { sql: 'SELECT 2' },
              },
            ],
          },
        },
        { type: 'get_autocommit' },
        { type: 'describe', sql: 'SELECT :name AS a, ?3 AS b' },
        { type: 'describe', sql: 'CREATE TABLE never (x)' },
        { type: 'close_sql', sql_id: 1 },
        { type: 'close' },
      ],
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      baton: null, // closed by the last request
      results: [
        ok({ type: 'store_sql' }),
        ok({
          type: 'batch',
          result: {
            // expect.anything() does not match null: non-null means the step ran
            step_results: [
              expect.anything(),
              null,
              null,
              { rows: [[integer('42')]] },
              expect.anything(),
              null,
            ],
            step_errors: [null, null, { code: 'SQLITE_ERROR' }, null, null, null],
          },
        }),
        ok({ type: 'get_autocommit', is_autocommit: true }),
        ok({
          type: 'describe',
          result: {
            params: [{ name: ':name' }, { name: null }, { name: '?3' }],
            cols: [
              { name: 'a', decltype: null },
              { name: 'b', decltype: null },
            ],
            is_explain: false,
            is_readonly: true,
          },
        }),
        ok({ type: 'describe', result: { params: [], is_readonly: false } }),
        ok({ type: 'close_sql' }),
        ok({ type: 'close' }),
      ],
    });
  });

  it('rejects Hrana 3 features on /v2, and unknown or reused batons', async () => {
    const v3only = { requests: [{ type: 'get_autocommit' }] };
    expect((await hrana(2, v3only)).status).toBe(400);
    const first = await hrana(2, { requests: [execute('SELECT 1')] });
    const { baton } = first.body as { baton: unknown };
    expect(typeof baton).toBe('string');
    expect((await hrana(2, { baton, requests: [] })).status).toBe(200);
    expect((await hrana(2, { baton, requests: [] })).status).toBe(400); // a baton is good for one request
    expect((await hrana(2, { baton: 'made-up', requests: [] })).status).toBe(400);
  });
});
