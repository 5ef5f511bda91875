import type { Config } from '../config.js';
import type { TwilioOptions } from './cli-args.js';
import { connectTwilio } from './connect-twilio.js';
import { Reporter } from './report.js';
import type { ConnectDeps } from './run-connect.js';
import { openStateFile, twilioStateOf } from './state.js';
import { attempt } from './step-error.js';
import { configuredHosts, createTwilioClient } from './twilio-client.js';
import { undoTwilio } from './undo-twilio.js';

/**
 * `npm run connect -- twilio`: one pass (no scopes to check first: the account's auth token may do all of
 * it). A dry run reads and prints; a real run compares each field before writing it.
 */
export async function runTwilio(options: TwilioOptions, config: Config, deps: ConnectDeps): Promise<number> {
  const out = deps.out;
  const what = options.undo ? 'removing what connect set on' : 'connecting';
  out.write(
    `connect twilio: ${what} ${options.number} of account ${config.TWILIO_ACCOUNT_SID}${options.dryRun ? ' (dry run: nothing is changed)' : ''}\n`,
  );
  const stateFile = openStateFile(deps.statePath);
  const report = new Reporter(out, options.dryRun);
  const pass = {
    dryRun: options.dryRun,
    report,
    client: createTwilioClient(config, deps.twilioHosts ?? configuredHosts(config)),
    config,
    options,
    state: twilioStateOf(stateFile, config.TWILIO_ACCOUNT_SID),
    saveState: () => (options.dryRun ? undefined : stateFile.save()),
  };
  const ok = await attempt(deps.err, 'connect twilio', () =>
    options.undo ? undoTwilio(pass) : connectTwilio(pass),
  );
  report.summary();
  return ok ? 0 : 1;
}
