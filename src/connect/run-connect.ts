import type { ManagementApi } from '../auth0-api/index.js';
import type { Config } from '../config.js';
import type { ConnectOptions } from './cli-args.js';
import type { Output } from './report.js';
import { runAuth0 } from './run-auth0.js';
import { runTwilio } from './run-twilio.js';

/**
 * `npm run connect`: everything but reading argv, the environment and the exit (scripts/connect.ts).
 * Tests call it with loopback stand-ins for Auth0 and Twilio and an injected clock.
 */

export interface ConnectDeps {
  out: Output;
  err: Output;
  fetch: typeof fetch;
  /** data/connect-state.json: what connect replaced, and fingerprints of the secrets it set. */
  statePath: string;
  /** Where the Action scripts are (actions/). */
  actionsDir: string;
  now: () => number;
  /** Waits between polls of an Action's build. */
  sleep: (ms: number) => Promise<void>;
  /** The Management API client (default: the shared one from configuration, managementApiFrom). */
  management?: ManagementApi;
  /** Where each Twilio host is reached (default: TWILIO_API_BASE_URL and TWILIO_VERIFY_BASE_URL when set). */
  twilioHosts?: Record<string, string>;
}

export async function runConnect(
  options: ConnectOptions,
  config: Config,
  deps: ConnectDeps,
): Promise<number> {
  const base = new URL(config.PUBLIC_BASE_URL);
  // Auth0 and Twilio call callerpop from the internet: a log stream endpoint must be https (OAS LogStreamHttpSink
  // `^https://`), and neither can reach a loopback address.
  if (base.protocol !== 'https:' || /^(localhost|127\.|\[::1\])/.test(base.hostname)) {
    deps.err.write(
      `connect: PUBLIC_BASE_URL is ${config.PUBLIC_BASE_URL}; set it to the https:// address Auth0 and Twilio reach callerpop at (a tunnel works for a development box)\n`,
    );
    return 2;
  }
  return options.command === 'auth0' ? runAuth0(options, config, deps) : runTwilio(options, config, deps);
}
