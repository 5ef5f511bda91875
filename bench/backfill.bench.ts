/**
 * Backfill benchmark: a 1,000,000-user export (.ndjson.gz) imported with `--file` into a fresh index, as a
 * child process whose peak memory is measured by /usr/bin/time -v (else the child's own maxRSS).
 * Run: `npm run bench:backfill` or `tsx bench/backfill.bench.ts [users]`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Auth0Plan, describeLimit, estimateDurationMs } from '../src/auth0-api/rate-limits.js';
import { formatDuration, methodsLimits } from '../src/backfill/pacing.js';
import { generateExport } from './backfill-data.js';

const USERS = Number(process.argv[2] ?? process.env.BENCH_BACKFILL_USERS ?? 1_000_000);
const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
const MFA_SHARE = 0.3;

/**
 * The same job through the Management API alone, at each plan's documented limit for
 * `GET /users/{id}/authentication-methods` (src/auth0-api/rate-limits.ts, which cites the pages), estimated the
 * way the backfill prints it (src/backfill/pacing.ts).
 */
const PLANS: Auth0Plan[] = ['free', 'essentials', 'enterprise-non-production', 'enterprise'];

interface Measured {
  elapsedMs: number;
  maxRssMb: number;
  summary: string;
  code: number | null;
}

async function runImport(file: string, dbPath: string): Promise<Measured> {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const node = [
    process.execPath,
    '--import',
    'tsx',
    join(ROOT, 'scripts', 'backfill.ts'),
    '--file',
    file,
    '--progress',
    'none',
  ];
  const [cmd, ...args] = timeBin ? [timeBin, '-v', ...node] : node;
  const started = performance.now();
  const child = spawn(cmd as string, args, {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `file:${dbPath}`, BACKFILL_REPORT_RSS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const elapsedMs = performance.now() - started;
  const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  const fromChild = /max RSS (\d+) kB/.exec(stdout)?.[1];
  const kb = Number(fromTime ?? fromChild ?? Number.NaN);
  if (code !== 0) process.stderr.write(stderr);
  return { elapsedMs, maxRssMb: kb / 1024, summary: stdout.trim(), code };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `users-${USERS}.ndjson.gz`);
  const genStart = performance.now();
  await generateExport(file, USERS);
  const genMs = performance.now() - genStart;
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-bench-backfill-'));
  try {
    const m = await runImport(file, join(dir, 'bench.db'));
    if (m.code !== 0) throw new Error(`import exited with ${m.code}`);
    const seconds = m.elapsedMs / 1000;
    const lines = [
      `backfill --file: ${USERS.toLocaleString('en-US')} users (${file.replace(`${ROOT}/`, '')}, generated in ${(genMs / 1000).toFixed(1)} s)`,
      `  elapsed      ${seconds.toFixed(1)} s  (${Math.round(USERS / seconds).toLocaleString('en-US')} users/s, process start and migrations included)  target < 30 s`,
      `  peak memory  ${m.maxRssMb.toFixed(0)} MB max RSS  target < 300 MB`,
      '  the same through the Management API alone (no user search finds MFA numbers: one authentication-methods call per user):',
      ...PLANS.map((plan) => {
        const limits = methodsLimits(plan);
        const time = (calls: number) => formatDuration(estimateDurationMs(limits, calls)).padStart(9);
        const label = `${plan} (${limits.map(describeLimit).join(', ')})`;
        return `    ${label.padEnd(48)} every user ${time(USERS)}   only the ${MFA_SHARE * 100}% with MFA (what --mfa calls) ${time(USERS * MFA_SHARE)}`;
      }),
      '',
      // The summary, without the per-line problem lists (the first few thousand lines' messy numbers).
      m.summary
        .split('\n')
        .filter((l) => !/^\s+(line \d+:|… and)/.test(l))
        .map((l) => `  | ${l}`)
        .join('\n'),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
