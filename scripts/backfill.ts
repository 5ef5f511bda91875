/**
 * `npm run backfill`: fills the index from an existing Auth0 tenant. Everything but argument handling,
 * signals and the exit status lives in src/backfill/; see docs/backfill.md.
 */
import { existsSync } from 'node:fs';
import { HELP, parseCli, UsageError } from '../src/backfill/cli-args.js';
import { runBackfill } from '../src/backfill/run-backfill.js';
import { DATA_DIR } from '../src/node/env.js';

async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`backfill: ${error.message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  // First Ctrl-C: stop reading, commit what is in flight, exit resumable. Second: exit now (still resumable).
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nInterrupted: finishing the batch in flight (Ctrl-C again to stop at once)…\n');
    controller.abort();
  });
  process.on('SIGTERM', () => controller.abort());
  const result = await runBackfill(options, {
    out: process.stdout,
    tty: Boolean(process.stdout.isTTY),
    dataDir: DATA_DIR,
    signal: controller.signal,
  });
  // For the benchmark when /usr/bin/time is missing: peak memory of the whole process (all threads).
  if (process.env.BACKFILL_REPORT_RSS) process.stdout.write(`max RSS ${process.resourceUsage().maxRSS} kB\n`);
  if (result.status === 'completed') return 0;
  return result.status === 'interrupted' ? 130 : 1;
}

/**
 * Exits once the output is written. Not by draining the event loop: the SDK arms a timer for each request
 * before it waits its turn in the rate limiter (so a long one), and forgets to clear it when the request fails.
 */
function exit(code: number) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main().then(exit, (error: unknown) => {
  process.stderr.write(`backfill: ${error instanceof Error ? error.message : String(error)}\n`);
  exit(1);
});
