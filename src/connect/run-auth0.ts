import { type ManagementApi, managementApiFrom } from '../auth0-api/index.js';
import type { Config } from '../config.js';
import { type Auth0Pass, tenantClients } from './auth0-context.js';
import type { Auth0Options } from './cli-args.js';
import { connectAuth0 } from './connect-auth0.js';
import { grantedScopes } from './granted-scopes.js';
import { type Output, Reporter } from './report.js';
import type { ConnectDeps } from './run-connect.js';
import { ALL_FEATURES, describeMissing, missingScopes, SCOPE_NEEDS } from './scopes.js';
import { auth0StateOf, openStateFile } from './state.js';
import { attempt, auth0Failure, printFailure } from './step-error.js';
import { undoAuth0 } from './undo-auth0.js';

/**
 * `npm run connect -- auth0`: the scopes first, then a plan pass and, if nothing the writes need is
 * missing, an apply pass (auth0-context.ts). Returns the exit status.
 */

type Auth0RunConfig = Pick<
  Config,
  | 'PUBLIC_BASE_URL'
  | 'AUTH0_DOMAIN'
  | 'AUTH0_CLIENT_ID'
  | 'AUTH0_CLIENT_SECRET'
  | 'AUTH0_API_BASE_URL'
  | 'AUTH0_PLAN'
  | 'AUTH0_WEBHOOK_SECRET'
  | 'AUTH0_LOG_STREAM_TOKEN'
  | 'AGENT_ROLES_CLAIM'
  | 'AUTH0_AGENT_CLIENT_ID'
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_AUTH_TOKEN'
>;

/** Reads every run makes whatever it finds (a missing one fails the first step that reads). */
const READS = ['read:actions', 'read:log_streams', 'read:clients', 'read:tenant_settings'];
const NO_OUTPUT = { write: () => true };

export async function runAuth0(
  options: Auth0Options,
  config: Auth0RunConfig,
  deps: ConnectDeps,
): Promise<number> {
  const api: ManagementApi | undefined = deps.management ?? managementApiFrom(config, deps.fetch);
  if (!api || !config.AUTH0_DOMAIN || !config.AUTH0_CLIENT_ID || !config.AUTH0_CLIENT_SECRET) {
    deps.err.write(
      'connect auth0: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (the machine-to-machine application)\n',
    );
    return 2;
  }
  const out = deps.out;
  const what = options.undo ? 'removing what connect added to' : 'connecting';
  out.write(
    `connect auth0: ${what} tenant ${config.AUTH0_DOMAIN}${options.dryRun ? ' (dry run: nothing is changed)' : ''}\n`,
  );
  if (config.AUTH0_WEBHOOK_SECRET.trim().includes(' '))
    out.write(
      '  ! AUTH0_WEBHOOK_SECRET holds several secrets (a rotation): the Actions get them in this order (docs/auth0.md, "Rotating the secret")\n',
    );

  const token = await grantedScopes(api, {
    baseUrl: config.AUTH0_API_BASE_URL ?? `https://${config.AUTH0_DOMAIN}`,
    domain: config.AUTH0_DOMAIN,
    clientId: config.AUTH0_CLIENT_ID,
    clientSecret: config.AUTH0_CLIENT_SECRET,
    fetch: deps.fetch,
  }).then(
    (scopes) => ({ scopes }),
    (error: unknown) => {
      printFailure(
        deps.err,
        'connect auth0',
        auth0Failure('read the granted scopes (the client-credentials token)', error),
      );
      return undefined;
    },
  );
  if (!token) return 1;
  const granted = token.scopes;
  reportScopes(out, granted);

  const stateFile = openStateFile(deps.statePath);
  const state = auth0StateOf(stateFile, config.AUTH0_DOMAIN);
  const tenant = tenantClients(api);
  const pass = (mode: Auth0Pass['mode'], report: Reporter): Auth0Pass => ({
    mode,
    report,
    tenant,
    config: { ...config, AUTH0_DOMAIN: config.AUTH0_DOMAIN },
    options,
    actionsDir: deps.actionsDir,
    // The plan pass decides on a copy: nothing it notes may reach the file or the apply pass.
    state: mode === 'apply' ? state : structuredClone(state),
    saveState: () => (mode === 'apply' ? stateFile.save() : undefined),
    needs: new Map(),
    now: deps.now,
    sleep: deps.sleep,
    made: { actionIds: new Map() },
  });
  const run = options.undo ? undoAuth0 : connectAuth0;

  const plan = pass('plan', new Reporter(options.dryRun ? out : NO_OUTPUT, true));
  if (!(await attempt(deps.err, 'connect auth0', () => run(plan)))) return 1;
  if (granted) {
    const reads = [...READS, ...(options.phone === 'upe' ? ['read:phone_providers'] : [])];
    const needed = new Set([...reads, ...plan.needs.keys()]);
    const lacking = [...needed].filter((scope) => !granted.has(scope));
    if (lacking.length > 0) {
      out.write(
        `\nThe machine-to-machine application ${config.AUTH0_CLIENT_ID} lacks what this run needs:\n`,
      );
      for (const scope of lacking) {
        const steps = [...(plan.needs.get(scope) ?? [])];
        const why = SCOPE_NEEDS.find((n) => n.scope === scope && n.feature.startsWith('connect'))?.why;
        out.write(
          `  - ${scope}: ${why ?? 'read what connect compares'}${steps.length > 0 ? ` (${steps.join('; ')})` : ''}\n`,
        );
      }
      out.write(
        'Grant them under Applications > APIs > Auth0 Management API > Machine To Machine Applications, then run again.\n' +
          (options.dryRun ? '' : 'Nothing was changed.\n'),
      );
      return 1;
    }
  }
  if (options.dryRun) {
    plan.report.summary();
    return 0;
  }
  const apply = pass('apply', new Reporter(out, false));
  const ok = await attempt(deps.err, 'connect auth0', () => run(apply));
  if (ok && options.undo) {
    delete stateFile.state.auth0[config.AUTH0_DOMAIN];
    stateFile.save();
  }
  apply.report.summary();
  return ok ? 0 : 1;
}

/**
 * Every scope of the table (scopes.ts) the application lacks, with what needs it: the backfill, the log
 * catch-up and the account actions too, which will otherwise fail later. Reported; only what this run
 * needs stops it (after the plan pass).
 */
function reportScopes(out: Output, granted: ReadonlySet<string> | undefined) {
  out.write('\nScopes of the machine-to-machine application\n');
  if (!granted) {
    out.write('  ! Auth0 named no scopes in the token: each step reports a missing one when it meets it\n');
    return;
  }
  const missing = missingScopes(granted, ALL_FEATURES);
  if (missing.length === 0)
    out.write(`  = every scope callerpop uses is granted (${ALL_FEATURES.join(', ')})\n`);
  for (const m of missing) out.write(`  ! missing ${describeMissing(m)}\n`);
}
