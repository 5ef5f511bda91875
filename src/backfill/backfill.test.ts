import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backfillSandbox, db, ndjson, type Sandbox, sms } from './test-support.js';

let box: Sandbox;
beforeEach(() => {
  box = backfillSandbox();
});
afterEach(() => box.cleanup());

const USERS = [
  db('ann', {
    phone_number: '+1 (415) 555-0101',
    phone_verified: true,
    blocked: false,
    last_login: '2025-05-01T10:00:00.000Z',
  }),
  sms('bob', '+442071838750'),
  db('cat', { phone_number: '415-555-0101', phone_verified: false }),
  db('dan'),
];

function write(name: string, content: string | Buffer): string {
  const path = join(box.dir, name);
  writeFileSync(path, content);
  return path;
}

describe('backfill --file', () => {
  it.each([
    ['users.ndjson', (s: string) => s],
    ['users.json', (s: string) => `[\n${s.split('\n').join(',\n')}\n]\n`],
    ['users.json.gz', (s: string) => gzipSync(s)],
  ])('indexes accounts and phone links from %s', async (name, encode) => {
    const result = await box.run(['--file', write(name, encode(ndjson(USERS)))]);
    expect(result.status).toBe('completed');
    expect(await box.links()).toEqual([
      'auth0|ann profile +14155550101 verified',
      'auth0|cat profile +14155550101 unverified',
      'sms|bob passwordless +442071838750 verified',
    ]);
    const accounts = await box.query<{
      user_id: string;
      connection: string;
      email: string | null;
      last_login_at: number;
    }>('select user_id, connection, email, last_login_at from accounts order by user_id');
    expect(accounts.map((a) => a.user_id)).toEqual(['auth0|ann', 'auth0|cat', 'auth0|dan', 'sms|bob']);
    expect(accounts[0]).toMatchObject({
      connection: 'Username-Password-Authentication',
      email: 'ann@example.com',
    });
    expect(Number(accounts[0]?.last_login_at)).toBe(Date.parse('2025-05-01T10:00:00.000Z'));
    expect(result.counters).toMatchObject({
      users: 4,
      linksAdded: 3,
      linksUpdated: 0,
      malformed: 0,
      invalidNumbers: 0,
    });
    expect(result.output).toMatch(/links {13}added 3, updated 0, removed 0/);
  });

  it('adds nothing twice: a second run over the same export changes nothing', async () => {
    const file = write('users.ndjson', ndjson(USERS));
    await box.run(['--file', file]);
    const second = await box.run(['--file', file]);
    expect(second.counters).toMatchObject({ users: 4, linksAdded: 0, linksUpdated: 0, linksRemoved: 0 });
    const [count] = await box.query<{ n: number }>('select count(*) as n from phone_links');
    expect(Number(count?.n)).toBe(3);
  });

  it('reports a verification change as an update', async () => {
    const file = write('users.ndjson', ndjson(USERS));
    await box.run(['--file', file]);
    const changed = USERS.map((u) =>
      u.user_id === 'auth0|cat' ? { ...u, phone_verified: true, updated_at: '2025-07-01T00:00:00.000Z' } : u,
    );
    const result = await box.run(['--file', write('users2.ndjson', ndjson(changed))]);
    expect(result.counters).toMatchObject({ linksAdded: 0, linksUpdated: 1 });
    expect(await box.links()).toContain('auth0|cat profile +14155550101 verified');
  });

  it('counts malformed lines, wrong types and invalid numbers by line, and writes nothing of a rejected user', async () => {
    const file = write(
      'bad.ndjson',
      ndjson([
        db('ok1', { phone_number: '+14155550102' }),
        '{"user_id": "auth0|broken", ',
        db('typed', { phone_number: 4155550103 }),
        db('badverified', { phone_number: '+14155550104', phone_verified: 'yes' }),
        db('baddate', { updated_at: 'last tuesday' }),
        { email: 'no-id@example.com' },
        '[1, 2]',
        db('invalid', { phone_number: '+1 555' }),
        db('ok2', { phone_number: '+14155550105' }),
      ]),
    );
    const result = await box.run(['--file', file]);
    expect(result.status).toBe('completed');
    expect(result.counters.malformedLines).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 3, reason: 'phone_number is not a string' },
      { line: 4, reason: 'phone_verified is not true or false' },
      { line: 5, reason: 'updated_at is not a valid date' },
      { line: 6, reason: 'user_id missing or not a string' },
      { line: 7, reason: 'not a JSON object' },
      { line: 7, reason: 'not a JSON object' },
    ]);
    expect(result.counters.invalidLines).toEqual([{ line: 8, reason: 'profile number: invalid' }]);
    const ids = (await box.query<{ user_id: string }>('select user_id from accounts order by user_id')).map(
      (r) => r.user_id,
    );
    // Rejected users leave no trace; the user with an invalid number is indexed without it.
    expect(ids).toEqual(['auth0|invalid', 'auth0|ok1', 'auth0|ok2']);
    expect(await box.links()).toEqual([
      'auth0|ok1 profile +14155550102 unverified',
      'auth0|ok2 profile +14155550105 unverified',
    ]);
    expect(result.output).toContain('line 2: not valid JSON');
    expect(result.output).toContain('line 8: profile number: invalid');
    expect(result.output).not.toContain('555');
  });

  it('--dry-run reports what would change and writes nothing', async () => {
    const result = await box.run(['--file', write('users.ndjson', ndjson(USERS)), '--dry-run']);
    expect(result.status).toBe('completed');
    expect(result.counters).toMatchObject({ users: 4, linksAdded: 3 });
    expect(result.output).toContain('dry run: nothing was written');
    expect(await box.query('select * from accounts')).toEqual([]);
    expect(await box.query('select * from phone_links')).toEqual([]);
    expect(await box.query('select * from backfill_runs')).toEqual([]);
    expect(await box.query('select * from backfill_seen')).toEqual([]);
  });

  it('keeps links the export says are gone unless --prune, then removes them (users missing from the export too)', async () => {
    const first = write('v1.ndjson', ndjson(USERS));
    utimesSync(first, new Date('2025-08-01T00:00:00Z'), new Date('2025-08-01T00:00:00Z'));
    await box.run(['--file', first]);
    // Later export: ann changed her number, bob's account is gone.
    const later = [
      db('ann', {
        phone_number: '+14155550199',
        phone_verified: true,
        updated_at: '2025-09-01T00:00:00.000Z',
      }),
      USERS[2],
      USERS[3],
    ];
    const second = write('v2.ndjson', ndjson(later));
    utimesSync(second, new Date('2025-10-01T00:00:00Z'), new Date('2025-10-01T00:00:00Z'));

    const asOf = ['--as-of', '2025-10-01T00:00:00Z'];
    const dry = await box.run(['--file', second, '--prune', '--complete', ...asOf, '--dry-run']);
    expect(dry.counters).toMatchObject({ linksAdded: 1, linksRemoved: 2 });
    const kept = await box.run(['--file', second]);
    expect(kept.counters).toMatchObject({ linksAdded: 1, linksStale: 1, linksRemoved: 0 });
    expect(kept.output).toContain('run with --prune to remove them');
    expect(await box.links()).toContain('auth0|ann profile +14155550101 verified');

    const pruned = await box.run(['--file', second, '--prune', '--complete', ...asOf]);
    expect(pruned.counters).toMatchObject({ linksAdded: 0, linksRemoved: 2 });
    expect(await box.links()).toEqual([
      'auth0|ann profile +14155550199 verified',
      'auth0|cat profile +14155550101 unverified',
    ]);
    const removed = await box.query<{ removed_at: number }>(
      'select removed_at from phone_links where user_id = ?',
      ['sms|bob'],
    );
    // Dated with the export's time, so a later enrollment (Action) is never undone by a replay.
    expect(Number(removed[0]?.removed_at)).toBe(Date.parse('2025-10-01T00:00:00Z'));
    // Gone like a deleted user: a late event from before the export gives bob no link of any kind.
    const marks = await box.query<{ source: string; removed_at: number }>(
      'select source, removed_at from link_watermarks where user_id = ? order by source',
      ['sms|bob'],
    );
    expect(marks.map((m) => [m.source, Number(m.removed_at)])).toEqual(
      ['mfa_sms', 'mfa_voice', 'passwordless', 'profile'].map((s) => [s, Date.parse('2025-10-01T00:00:00Z')]),
    );
    expect(await box.query('select * from backfill_seen')).toEqual([]);
  });

  it('--prune of a file never prunes users missing from it unless --complete says it is the whole tenant', async () => {
    await box.run(['--file', write('all.ndjson', ndjson(USERS))]);
    // A one-connection export (database users only): bob (sms) is not in it, and is not gone.
    const dbOnly = [db('ann', { updated_at: '2025-09-01T00:00:00.000Z' }), USERS[2], USERS[3]];
    const file = write('db-only.ndjson', ndjson(dbOnly));
    const pruned = await box.run(['--file', file, '--prune', '--as-of', '2025-10-01T00:00:00Z']);
    expect(pruned.status).toBe('completed');
    // ann's own removed phone goes (the file speaks for her); bob's link stays.
    expect(pruned.counters).toMatchObject({ linksRemoved: 1 });
    expect(await box.links()).toEqual([
      'auth0|cat profile +14155550101 unverified',
      'sms|bob passwordless +442071838750 verified',
    ]);
  });

  it('asks for --as-of before pruning from a file, and --complete only with --file --prune', async () => {
    const file = write('u.ndjson', ndjson(USERS));
    await expect(box.run(['--file', file, '--prune'])).rejects.toThrow(/--prune with --file needs --as-of/);
    await expect(box.run(['--file', file, '--complete', '--as-of', '2025-10-01T00:00:00Z'])).rejects.toThrow(
      '--complete only matters with --prune',
    );
    await expect(box.run(['--complete', '--prune'], { AUTH0_DOMAIN: 'x.auth0.com' })).rejects.toThrow(
      '--complete applies to --file only',
    );
  });

  it('--restart abandons the unfinished run, so a later run never resumes it', async () => {
    const file = write('u.ndjson', ndjson(USERS));
    const stopped = new AbortController();
    stopped.abort();
    expect((await box.run(['--file', file], {}, stopped.signal)).status).toBe('interrupted');
    const restarted = await box.run(['--file', file, '--restart']);
    expect(restarted.status).toBe('completed');
    const runs = await box.query<{ id: string; status: string }>('select id, status from backfill_runs');
    expect(runs.map((r) => r.status).sort()).toEqual(['abandoned', 'completed']);
    const later = await box.run(['--file', file]);
    expect(later.output).not.toContain('Resuming run');
    expect(later.runId).not.toBe(runs.find((r) => r.status === 'abandoned')?.id);
  });

  it('reads national numbers in --region', async () => {
    const file = write(
      'gb.ndjson',
      ndjson([db('gb', { phone_number: '020 7183 8750', phone_verified: true })]),
    );
    await box.run(['--file', file, '--region', 'gb']);
    expect(await box.links()).toEqual(['auth0|gb profile +442071838750 verified']);
  });

  it('fails with the reason for a pretty-printed JSON array instead of reporting an empty success', async () => {
    const file = write('pretty.json', JSON.stringify([db('a'), db('b')], null, 2));
    const result = await box.run(['--file', file]);
    expect(result.status).toBe('failed');
    expect(result.output).toContain('every line was malformed');
    expect(result.output).toContain("jq -c '.[]'");
    expect(await box.links()).toEqual([]);
  });

  it('fails with the reason, non-zero, for a file that does not exist', async () => {
    const result = await box.run(['--file', join(box.dir, 'missing.ndjson')]);
    expect(result.status).toBe('failed');
    expect(result.output).toContain('Backfill FAILED: --file');
    expect(result.output).toContain('no such file');
  });
});
