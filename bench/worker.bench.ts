/**
 * Worker vs Node, same run, same load: the Twilio voice webhook (signed as Twilio signs it, a new CallSid
 * per request so every request normalizes, looks up, records and publishes), against
 *   - the Node entry (`src/node.ts`) on its embedded default, a local libSQL file;
 *   - the Node entry on libSQL over HTTP (the loopback Hrana server), to separate runtime from database;
 *   - the Worker under `wrangler dev` (workerd) on libSQL over HTTP, as on Cloudflare with Turso.
 * For each: time from spawn until the server is listening, the first webhook's latency (the cold path:
 * first database connection, first compile of the hot code), then steady latency p50/p99 and req/s.
 *
 * Run: `npm run bench` (bench/run.ts) or `tsx bench/worker.bench.ts`.
 * Knobs: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 10). Results: bench/out/worker.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import { startDevLibsql } from '../scripts/libsql-dev-server.js';
import { startWranglerDev } from '../scripts/wrangler-dev.js';
import { createDb } from '../src/db/client.js';
import { upsertAccounts, upsertLinks } from '../src/phone-index/write-queries.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CALLER = '+14155550123';

const SECRETS = {
  TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'bench-auth-token-0123456789abcdef',
  AUTH0_WEBHOOK_SECRET: `whsec_${btoa('callerpop-bench-webhook-secret-32')}`,
  AUTH0_LOG_STREAM_TOKEN: 'bench-log-stream-token-0123456789',
  ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
  SESSION_SECRET: 'bench-session-secret-0123456789abcdef-0123456789ab',
};

interface Target {
  name: string;
  url: string;
  readyMs: number;
  /** The server's processes (for CPU accounting). */
  pids(): number[];
  stop(): Promise<void>;
}

interface Result {
  target: string;
  readyMs: number;
  firstRequestMs: number;
  p50Ms: number;
  p99Ms: number;
  reqPerSec: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Server CPU (user + system) per webhook in the steady run: an upper bound on billed CPU time. */
  cpuMsPerRequest: number;
}

const TICK_MS = 1000 / 100; // Linux USER_HZ

/** User + system CPU of these processes so far, from /proc (Linux). */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks * TICK_MS;
}

function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // exited
    }
  }
  return pids;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

let sequence = 0;
function callSid(): string {
  sequence += 1;
  return `CA${process.pid.toString(16).padStart(8, '0')}${sequence.toString(16).padStart(24, '0')}`;
}

/** One signed inbound-call webhook, shaped like Twilio's. */
function signedCall(baseUrl: string) {
  const params: Record<string, string> = {
    AccountSid: SECRETS.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid(),
    CallStatus: 'ringing',
    Called: '+14155550199',
    Caller: CALLER,
    Direction: 'inbound',
    From: CALLER,
    FromCountry: 'US',
    StirVerstat: 'TN-Validation-Passed-A',
    To: '+14155550199',
    ToCountry: 'US',
  };
  const url = `${baseUrl}/twilio/voice`;
  return {
    body: new URLSearchParams(params).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': getExpectedTwilioSignature(SECRETS.TWILIO_AUTH_TOKEN, url, params),
    },
  };
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${log()}`);
    try {
      // Any answer means it is listening; a GET of the webhook path does not run the webhook.
      await fetch(`${url}/twilio/voice`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`no answer from ${url}:\n${log()}`);
}

async function startNode(name: string, databaseUrl: string, authToken?: string): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'node.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...SECRETS,
      NODE_ENV: 'production',
      AGENT_AUTH: 'token',
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_URL: databaseUrl,
      DATABASE_AUTH_TOKEN: authToken ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await waitForHttp(url, child, () => log);
  const readyMs = performance.now() - started;
  return {
    name,
    url,
    readyMs,
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    },
  };
}

async function startWorker(databaseUrl: string): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const dev = await startWranglerDev({
    port,
    secrets: { ...SECRETS, PUBLIC_BASE_URL: url, DATABASE_URL: databaseUrl, DATABASE_AUTH_TOKEN: '' },
    vars: { AGENT_AUTH: 'token' },
    readiness: 'output',
  });
  await waitForHttp(url, dev.child, dev.output);
  // workerd only (the Worker and wrangler's local proxy in front of it), not wrangler's Node process.
  const pids = () =>
    dev.child.pid === undefined
      ? []
      : processGroup(dev.child.pid).filter((pid) => commandOf(pid).includes('workerd'));
  return {
    name: 'Worker (wrangler dev), libSQL over HTTP',
    url,
    readyMs: performance.now() - started,
    pids,
    stop: dev.stop,
  };
}

async function measure(target: Target): Promise<Result> {
  const firstStarted = performance.now();
  const first = signedCall(target.url);
  const res = await fetch(`${target.url}/twilio/voice`, {
    method: 'POST',
    headers: first.headers,
    body: first.body,
  });
  const text = await res.text();
  const firstRequestMs = performance.now() - firstStarted;
  if (res.status !== 200 || !text.includes('<Response>'))
    throw new Error(`${target.name}: first webhook answered ${res.status}: ${text.slice(0, 300)}`);

  const run = (duration: number) =>
    autocannon({
      url: `${target.url}/twilio/voice`,
      connections: CONNECTIONS,
      duration,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const call = signedCall(target.url);
            return { ...request, method: 'POST', headers: call.headers, body: call.body };
          },
        },
      ],
    });
  await run(1); // warm-up: JIT, connection pools
  const cpuBefore = cpuMs(target.pids());
  const result = await run(SECONDS);
  const cpuUsed = cpuMs(target.pids()) - cpuBefore;
  return {
    target: target.name,
    readyMs: Math.round(target.readyMs),
    firstRequestMs: Math.round(firstRequestMs * 10) / 10,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    reqPerSec: Math.round(result.requests.average),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    cpuMsPerRequest: Math.round((cpuUsed / Math.max(1, result.requests.total)) * 100) / 100,
  };
}

async function seed(client: Parameters<typeof createDb>[0]) {
  const db = createDb(client);
  const at = Date.now();
  await upsertAccounts(db, [
    {
      userId: 'auth0|bench-1',
      connection: 'Username-Password-Authentication',
      email: 'ada@example.com',
      name: 'Ada',
      at,
    },
    { userId: 'sms|bench-2', connection: 'sms', name: 'Ada (SMS)', at },
  ]);
  await upsertLinks(db, [
    { e164: CALLER, userId: 'auth0|bench-1', source: 'mfa_sms', verified: true, at },
    { e164: CALLER, userId: 'sms|bench-2', source: 'passwordless', verified: true, at },
  ]);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-bench-'));
  const results: Result[] = [];
  const libsql = await startDevLibsql({ file: ':memory:' });
  try {
    await seed(libsql.client);
    // The embedded default: the Node entry migrates its own file on start.
    const file = `file:${join(dir, 'node.db')}`;
    const { createClient } = await import('@libsql/client');
    const { applyMigrations } = await import('../src/db/migrate-node.js');
    const fileClient = createClient({ url: file });
    await applyMigrations(createDb(fileClient));
    await seed(fileClient);
    fileClient.close();

    const starts: (() => Promise<Target>)[] = [
      () => startNode('Node, libSQL file (embedded default)', file),
      () => startNode('Node, libSQL over HTTP', libsql.url),
      () => startWorker(libsql.url),
    ];
    for (const start of starts) {
      const target = await start();
      try {
        results.push(await measure(target));
      } finally {
        await target.stop();
      }
    }
  } finally {
    await libsql.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(
    `\nTwilio voice webhook, ${CONNECTIONS} connections, ${SECONDS} s each, signed per request, new CallSid each (normalize → lookup → record → publish → TwiML)\n`,
  );
  const rows = [
    '| target | ready (ms) | first request (ms) | p50 (ms) | p99 (ms) | req/s | server CPU per webhook (ms) | non-2xx | errors |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
    ...results.map(
      (r) =>
        `| ${r.target} | ${r.readyMs} | ${r.firstRequestMs} | ${r.p50Ms} | ${r.p99Ms} | ${r.reqPerSec} | ${r.cpuMsPerRequest} | ${r.non2xx} | ${r.errors} |`,
    ),
  ];
  console.log(rows.join('\n'));
  console.log(
    "\nready: spawn until the server answers; first request: the first signed webhook after that (first database connection, first run of the hot path); server CPU: the server processes only (for the Worker: workerd, including wrangler dev's local proxy), not the libSQL server or the load generator.",
  );
  mkdirSync(OUT, { recursive: true });
  writeFileSync(
    join(OUT, 'worker.json'),
    `${JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, connections: CONNECTIONS, results }, null, 2)}\n`,
  );
  if (results.some((r) => r.non2xx > 0 || r.errors > 0)) process.exitCode = 1;
}

await main();
