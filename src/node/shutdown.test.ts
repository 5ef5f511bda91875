import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { smsParams, twilioFormRequest } from '../../test/support/twilio-sign.js';

/**
 * The real Node entry (`tsx src/node.ts`), stopped with SIGTERM while texts it has already answered are
 * still waiting in the recorder's window: a text's TwiML is sent before its interaction is written, so
 * the stop must write them before it closes the database.
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

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('stopping the Node server', () => {
  it('records every text it answered before it exits', async () => {
    dir = mkdtempSync(join(tmpdir(), 'callerpop-shutdown-'));
    const port = await freePort();
    const database = `file:${join(dir, 'callerpop.db')}`;
    const started = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
      env: {
        ...process.env,
        ...TEST_ENV,
        NODE_ENV: 'development',
        PORT: String(port),
        DATABASE_URL: database,
        CALLERPOP_DATA_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout?.on('data', (d) => (output += d));
    started.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => started.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (output.includes('listening')) {
          clearInterval(poll);
          resolve();
        } else if (started.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`the server did not start:\n${output}`));
        }
      }, 20);
    });

    const N = 200;
    const answered: string[] = [];
    let stopped = false;
    await Promise.all(
      Array.from({ length: N }, async () => {
        const params = smsParams('+14155550100', 'hi');
        const res = await fetch(
          twilioFormRequest('/twilio/sms', params, {}, `http://127.0.0.1:${port}`),
        ).catch(() => undefined);
        if (!res) return;
        await res.text();
        if (res.status === 200) answered.push(params.MessageSid as string);
        // Stop right after the first answer: the rest are in flight or waiting in the batch window.
        if (!stopped) {
          stopped = true;
          started.kill('SIGTERM');
        }
      }),
    );
    expect(await exited).toBe(0);
    expect(answered.length).toBeGreaterThan(0);

    const client = createClient({ url: database });
    const rs = await client.execute('select twilio_sid from interactions');
    client.close();
    const recorded = new Set(rs.rows.map((r) => String(r.twilio_sid)));
    expect(answered.filter((s) => !recorded.has(s))).toEqual([]);
    expect(output).not.toMatch(/not recorded|unfinished/);
  });
});
