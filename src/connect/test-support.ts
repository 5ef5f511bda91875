import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_ENV } from '../../test/support/context.js';
import { createManagementApi } from '../auth0-api/index.js';
import { type ConfigInput, parseConfig } from '../config.js';
import { parseConnectArgs } from './cli-args.js';
import { runConnect } from './run-connect.js';

/**
 * Runs `npm run connect -- …` in-process against loopback stand-ins, with a state file in a temp folder and
 * a clock that jumps instead of waiting: the rate limiter's pauses and the build polls take no wall time,
 * and a test can run past the two-minute build deadline in milliseconds.
 */
export function connectSandbox(env: ConfigInput = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-connect-'));
  const statePath = join(dir, 'connect-state.json');
  const clock = { now: Date.parse('2026-12-01T09:00:00Z') };
  const now = () => clock.now;
  const sleep = async (ms: number) => {
    clock.now += Math.max(0, ms);
  };
  return {
    dir,
    statePath,
    clock,
    /** The state file's text ('' while none was written). */
    stateText: () => (existsSync(statePath) ? readFileSync(statePath, 'utf8') : ''),
    async run(args: string[], extra: { env?: ConfigInput; twilioHosts?: Record<string, string> } = {}) {
      const options = parseConnectArgs(args);
      if (options === 'help') throw new Error('help');
      const config = parseConfig({
        ...TEST_ENV,
        PUBLIC_BASE_URL: 'https://pop.acme.example',
        ...env,
        ...extra.env,
      });
      let stdout = '';
      let stderr = '';
      const management =
        config.AUTH0_DOMAIN && config.AUTH0_CLIENT_ID && config.AUTH0_CLIENT_SECRET
          ? createManagementApi({
              domain: config.AUTH0_DOMAIN,
              clientId: config.AUTH0_CLIENT_ID,
              clientSecret: config.AUTH0_CLIENT_SECRET,
              apiBaseUrl: config.AUTH0_API_BASE_URL,
              plan: config.AUTH0_PLAN,
              fetch: globalThis.fetch.bind(globalThis),
              now,
              sleep: (ms) => sleep(ms),
            })
          : undefined;
      const code = await runConnect(options, config, {
        out: { write: (text: string) => (stdout += text) },
        err: { write: (text: string) => (stderr += text) },
        fetch: globalThis.fetch.bind(globalThis),
        statePath,
        actionsDir: resolve(import.meta.dirname, '../../actions'),
        now,
        sleep,
        management,
        twilioHosts: extra.twilioHosts,
      });
      return { code, stdout, stderr };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type ConnectSandbox = ReturnType<typeof connectSandbox>;
