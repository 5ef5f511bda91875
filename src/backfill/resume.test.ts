import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import { type FakeAuth0, startFakeAuth0 } from '../../test/support/fake-auth0.js';
import { backfillSandbox, db, type Sandbox } from './test-support.js';

const ROOT = resolve(import.meta.dirname, '../..');
let box: Sandbox;
let auth0: FakeAuth0;

beforeEach(async () => {
  box = backfillSandbox();
  const users = Array.from({ length: 240 }, (_, i) => ({
    profile: db(`u${String(i).padStart(3, '0')}`, i % 3 === 0 ? { multifactor: ['guardian'] } : {}),
    methods:
      i % 3 === 0
        ? [
            {
              type: 'phone' as const,
              phone_number: `+1415555${String(2000 + i)}`,
              preferred_authentication_method: 'sms' as const,
              confirmed: true,
            },
          ]
        : [],
  }));
  // 80 MFA users at ~10 calls/s: the run lasts long enough to be killed in the middle.
  auth0 = await startFakeAuth0({ users, rateLimit: { limit: 4, perSecond: 10 } });
});
afterEach(async () => {
  await auth0.close();
  box.cleanup();
});

/** `npm run backfill` as a real child process, as an operator runs it. */
function cli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: string | null; output: string }>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/backfill.ts', ...args], {
    cwd: ROOT,
    // The bucket above is this test's own, no documented plan: paced as Enterprise (16/s), it learns the rest.
    env: {
      ...process.env,
      ...auth0.env,
      AUTH0_PLAN: 'enterprise',
      DATABASE_URL: box.dbUrl,
      CALLERPOP_DATA_DIR: box.dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; output: string }>((ok) =>
    child.on('close', (code, signal) => ok({ code, signal, output })),
  );
  return { child, done };
}

/** The run's checkpoint as committed (undefined until the child has created its tables). */
const checkpoint = async () =>
  (
    await box
      .query<{ line: number; status: string }>('select line, status from backfill_runs')
      .catch(() => [])
  )[0];
const ARGS = ['--mfa', '--batch-size', '15', '--poll-interval', '20', '--progress', 'lines'];

describe('backfill resumes after a kill', () => {
  it('killed (SIGKILL) mid-file, then interrupted (Ctrl-C), then run again: completes with nothing twice', {
    timeout: 90_000,
  }, async () => {
    const first = cli(ARGS);
    const killedAt = await eventually(async () => {
      const run = await checkpoint();
      return run && Number(run.line) > 0 ? Number(run.line) : undefined;
    }, 30_000);
    first.child.kill('SIGKILL');
    const firstExit = await first.done;
    expect(firstExit.signal).toBe('SIGKILL');
    const afterKill = await checkpoint();
    expect(afterKill?.status).toBe('running');
    const committed = Number(afterKill?.line);
    expect(committed).toBeGreaterThanOrEqual(killedAt);
    expect(committed).toBeLessThan(240);
    const callsBefore = auth0.methodCalls().length;

    // Second run: Ctrl-C after it has moved on; it commits the batches in flight and exits 130, resumable.
    const second = cli(ARGS);
    await eventually(async () => (Number((await checkpoint())?.line) > committed ? true : undefined), 30_000);
    second.child.kill('SIGINT');
    const secondExit = await second.done;
    expect(secondExit.code).toBe(130);
    expect(secondExit.output).toContain(`Resuming run`);
    expect(secondExit.output).toContain('Backfill interrupted');
    const interruptedAt = Number((await checkpoint())?.line);
    expect(interruptedAt).toBeGreaterThan(committed);

    const third = cli(ARGS);
    const thirdExit = await third.done;
    expect(thirdExit.code).toBe(0);
    expect(thirdExit.output).toContain(`resumed after line ${interruptedAt}`);
    expect((await checkpoint())?.status).toBe('completed');

    // One export job for all three runs: the downloaded file is what they resume over.
    expect(auth0.log.filter((r) => r.path === '/api/v2/jobs/users-exports')).toHaveLength(1);
    // Users committed before a kill were never asked again.
    const thirdCalls = auth0
      .methodCalls()
      .slice(callsBefore)
      .filter((c) => c.status === 200);
    const askedAgain = new Set(thirdCalls.map((c) => decodeURIComponent(c.path).split('/')[4]));
    for (let i = 0; i < committed; i += 3)
      expect(askedAgain.has(`auth0|u${String(i).padStart(3, '0')}`)).toBe(false);

    const [counts] = await box.query<{ links: number; uniq: number; accounts: number }>(
      `select (select count(*) from phone_links) as links,
              (select count(distinct e164 || user_id || source) from phone_links) as uniq,
              (select count(*) from accounts) as accounts`,
    );
    expect(Number(counts?.links)).toBe(80);
    expect(Number(counts?.uniq)).toBe(80);
    expect(Number(counts?.accounts)).toBe(240);
    // The final summary covers the whole import, across the three processes.
    expect(thirdExit.output).toMatch(/users {13}240\n/);
    expect(thirdExit.output).toMatch(/links {13}added 80, updated 0, removed 0/);
  });
});

describe('backfill CLI', () => {
  it('prints help', async () => {
    const { done } = cli(['--help']);
    const { code, output } = await done;
    expect(code).toBe(0);
    expect(output).toContain('Usage: npm run backfill');
    expect(output).toContain('AUTH0_API_BASE_URL');
  });

  it('rejects bad flags and missing configuration with every reason and exit status 2', async () => {
    const bad = cli(['--concurrency', 'lots', '--batch-size', '0', '--region', 'Europe']);
    const result = await bad.done;
    expect(result.code).toBe(2);
    expect(result.output).toContain('--concurrency must be a number');
    expect(result.output).toContain('--batch-size must be at least 1');
    expect(result.output).toContain('--region (or DEFAULT_REGION) must be two letters');

    const unknown = await cli(['--fiel', 'x.json']).done;
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain("Unknown option '--fiel'");

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/backfill.ts', '--mfa', '--file', 'x.ndjson'],
      {
        cwd: ROOT,
        // Nothing from this machine's environment: only what the CLI is told.
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: box.dbUrl } as unknown as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    const code = await new Promise<number | null>((ok) => child.on('close', (c: number | null) => ok(c)));
    expect(code).toBe(2);
    expect(output).toContain('AUTH0_DOMAIN is required (--mfa calls the Management API)');
    expect(output).toContain('AUTH0_CLIENT_SECRET is required');
  });
});
