/**
 * `npm run log-catch-up`: one Auth0 log catch-up run now, into the same database `npm start` uses (or
 * DATABASE_URL). What a stopped or failing Log Stream missed is read back from GET /api/v2/logs from the
 * cursor and applied; see docs/auth0.md. Exit status: 0 done (or more to read: run it again), 1 failed,
 * 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { createLogReader } from '../src/auth0-api/logs.js';
import { managementApiFrom } from '../src/auth0-api/management.js';
import { createLogCatchUp, logDepsOf } from '../src/auth0-feed/log-catch-up.js';
import { ConfigError } from '../src/config.js';
import { buildNodeDeps } from '../src/node/deps.js';
import { loadNodeConfig } from '../src/node/env.js';

const HELP = `Usage: npm run log-catch-up -- [--from LOG_ID] [--pages N]

Applies the Auth0 tenant log events after the catch-up's cursor (GET /api/v2/logs, 100 per page), as the
server's timer and the Worker's cron do. The first run only sets the cursor at the newest event.

  --from LOG_ID   apply every event after this log_id instead (a replay; events already applied are skipped)
  --pages N       read at most N pages (default LOG_CATCH_UP_PAGES, 20)

Needs AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET (an application granted read:logs); AUTH0_PLAN paces
the calls. A .env file is read if present.`;

async function main(): Promise<number> {
  let values: { from?: string; pages?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: { from: { type: 'string' }, pages: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    process.stderr.write(`log-catch-up: ${(error as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const pages = values.pages === undefined ? undefined : Number(values.pages);
  if (pages !== undefined && (!Number.isInteger(pages) || pages < 1)) {
    process.stderr.write('log-catch-up: --pages must be a whole number of at least 1\n');
    return 2;
  }
  let config: ReturnType<typeof loadNodeConfig>['config'];
  try {
    ({ config } = loadNodeConfig());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`log-catch-up: ${error.message}\n`);
    return 2;
  }
  const { deps, close } = await buildNodeDeps(config);
  try {
    const api = managementApiFrom(config, deps.fetch);
    if (!api) {
      process.stderr.write('log-catch-up: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET\n');
      return 2;
    }
    const catchUp = createLogCatchUp(logDepsOf(deps), createLogReader(api), {
      maxPages: config.LOG_CATCH_UP_PAGES,
    });
    const run = await catchUp.run({ trigger: 'cli', from: values.from, maxPages: pages });
    if (run === 'busy') return 1;
    process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    if (run.status === 'more') process.stdout.write('More events are waiting: run it again.\n');
    return run.status === 'failed' ? 1 : 0;
  } finally {
    close();
  }
}

/** Exits once the output is written (the SDK leaves a long timer behind a failed request; see backfill.ts). */
function exit(code: number) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main().then(exit, (error: unknown) => {
  process.stderr.write(`log-catch-up: ${error instanceof Error ? error.message : String(error)}\n`);
  exit(1);
});
