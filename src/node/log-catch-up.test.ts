import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { type FakeAuth0, startFakeAuth0 } from '../../test/support/fake-auth0.js';

/**
 * The real Node entry (`tsx src/node.ts`) with the Management API configured: it builds the one client and the
 * log catch-up, says so in its banner (with the timer's interval), and serves the catch-up's route.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

let child: ChildProcess | undefined;
let dir: string | undefined;
let fake: FakeAuth0 | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  await fake?.close();
});

describe('the Node entry with the Management API configured', () => {
  it('announces the catch-up timer and runs the catch-up on demand', { timeout: 60_000 }, async () => {
    fake = await startFakeAuth0({ logs: [{ type: 's', date: new Date().toISOString() }] });
    dir = mkdtempSync(join(tmpdir(), 'callerpop-node-catch-up-'));
    const port = await freePort();
    const started = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
      env: {
        ...process.env,
        ...TEST_ENV,
        ...fake.env,
        AUTH0_PLAN: 'enterprise',
        LOG_CATCH_UP_MINUTES: '5',
        NODE_ENV: 'development',
        PORT: String(port),
        DATABASE_URL: `file:${join(dir, 'callerpop.db')}`,
        CALLERPOP_DATA_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout?.on('data', (d) => (output += d));
    started.stderr?.on('data', (d) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (output.includes('Auth0 log catch-up')) {
          clearInterval(poll);
          resolve();
        } else if (started.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`exited: ${output}`));
        }
      }, 50);
    });
    expect(output).toContain('Auth0 log catch-up: every 5 min, paced as AUTH0_PLAN=enterprise');
    const res = await fetch(`http://127.0.0.1:${port}/api/auth0/log-catch-up`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'started', to: fake.logs[0]?.log_id });
  });
});
