/**
 * `npm run connect -- auth0|twilio`: connects callerpop to an Auth0 tenant or a Twilio number. Everything but
 * argument handling, configuration and the exit status lives in src/connect/; see docs/connect.md.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../src/config.js';
import { HELP, parseConnectArgs, UsageError } from '../src/connect/cli-args.js';
import { runConnect } from '../src/connect/run-connect.js';
import { DATA_DIR, DEV_SECRETS_PATH, loadNodeConfig } from '../src/node/env.js';

async function main(): Promise<number> {
  let options: ReturnType<typeof parseConnectArgs>;
  try {
    options = parseConnectArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`connect: ${error.message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  let loaded: ReturnType<typeof loadNodeConfig>;
  try {
    // The same configuration as `npm start` (.env, the environment, then local development secrets): the
    // secrets installed in Auth0 are the ones the server checks.
    loaded = loadNodeConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`connect: ${error.message}\n`);
    return 2;
  }
  if (loaded.usingDevSecrets)
    process.stdout.write(
      `connect: some secrets are the local development ones (${DEV_SECRETS_PATH}): the callerpop that Auth0 and Twilio reach must use the same values\n`,
    );
  return runConnect(options, loaded.config, {
    out: process.stdout,
    err: process.stderr,
    fetch: globalThis.fetch.bind(globalThis),
    statePath: resolve(DATA_DIR, 'connect-state.json'),
    actionsDir: resolve('actions'),
    now: Date.now,
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  });
}

/** Exits once the output is written (the SDK leaves a long timer behind a failed request; see backfill.ts). */
function exit(code: number) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main().then(exit, (error: unknown) => {
  process.stderr.write(`connect: ${error instanceof Error ? error.message : String(error)}\n`);
  exit(1);
});
