/**
 * Backfill benchmark: a 1,000,000-user export (.ndjson.gz) imported with `--file` into a fresh index, as a
 * child process whose peak memory is measured by /usr/bin/time -v (else the child's own maxRSS).
 * Run: `npm run bench:backfill` or `tsx bench/backfill.bench.ts [users]`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateExport } from './backfill-data.js';

const USERS = Number(process.argv[2] ?? process.env.BENCH_BACKFILL_USERS ?? 1_000_000);
const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
const MFA_SHARE = 0.3;

/**
 * Management API rate limits used for the comparison (Auth0 rate limit policy pages):
 * - Free tenants: Management API 2 requests/second (burst 2) — rate-limit-configurations/free-public.
 * - Paid (Enterprise public cloud): 50 requests/second burst but 1,000 requests/minute sustained
 *   (≈16.7/s), as the x-ratelimit-limit headers and Auth0's "Rate Limits Exposition" describe.
 */
const LIMITS = [
  { plan: 'Free (2 req/s)', perSecond: 2 },
  { plan: 'paid, 1,000 req/min', perSecond: 1000 / 60 },
];

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

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 2 * 3600) return `${(seconds / 60).toFixed(0)} min`;
  if (seconds < 3 * 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
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
      ...LIMITS.map(
        (l) =>
          `    ${l.plan.padEnd(22)} every user ${duration(USERS / l.perSecond).padStart(9)}   only the ${MFA_SHARE * 100}% with MFA (what --mfa calls) ${duration((USERS * MFA_SHARE) / l.perSecond).padStart(9)}`,
      ),
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
