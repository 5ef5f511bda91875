import type { Management } from 'auth0';
import { type ActionScript, readScript } from './action-scripts.js';
import { type Auth0Pass, all, read, write } from './auth0-context.js';
import { fingerprint, matchesFingerprint } from './state.js';
import { StepError } from './step-error.js';

/**
 * Creates or updates one callerpop Action, waits for Auth0 to build it, and deploys it (OAS post_action:
 * "Once an action is created, it must be deployed, and then bound to a trigger before it will be executed";
 * patch_action: an update affects no flow "until the action is deployed"). Secrets are compared by
 * fingerprint (state.ts): "A secret's value will never be returned by the API" (OAS ActionSecretRequest).
 *
 * Whether a PATCH without `secrets` keeps them is not documented (a docs-v2 PR says Action modules' PATCH
 * replaces the whole list), so every update sends the complete list with values: right under either reading.
 *
 * No page says to wait for a build, or how long one takes; Auth0 refuses an early deploy with "A draft must
 * be in the 'built' state before it can be deployed" (auth0/auth0-deploy-cli#395; #524 saw 30–45 s and waits
 * 2 minutes). So: poll GET /actions/actions/{id} until `status` is `built` (`failed` ends it), then deploy,
 * then poll until `all_changes_deployed` (the deploy answers 202 "accepted"), each within BUILD_TIMEOUT_MS.
 */

export const BUILD_TIMEOUT_MS = 120_000;
const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 5_000;
const RUNTIME = 'node22';

export async function ensureAction(pass: Auth0Pass, spec: ActionScript): Promise<void> {
  const code = readScript(pass.actionsDir, spec);
  const secrets = spec.secrets({ config: pass.config, agentClientId: pass.made.agentClientId });
  const current = await findAction(pass, spec.name);
  const step = `Action ${spec.name}`;
  const where = `${spec.trigger.id} ${spec.trigger.version}, ${RUNTIME}`;
  if (!current?.id) {
    const created = await write(
      pass,
      {
        name: `create ${step}`,
        mark: '+',
        text: `create ${spec.name} (${where})`,
        scopes: ['create:actions'],
      },
      () =>
        pass.tenant.actions.create({
          name: spec.name,
          supported_triggers: [spec.trigger],
          code,
          runtime: RUNTIME,
          dependencies: [],
          secrets: secretList(secrets),
        }),
    );
    if (created?.id) {
      remember(pass, created.id, secrets);
      pass.made.actionIds.set(spec.name, created.id);
    }
    return deploy(pass, spec, created?.id ?? '');
  }
  pass.made.actionIds.set(spec.name, current.id);
  const differences = differencesOf(pass, current, spec, code, secrets);
  if (differences.length > 0) {
    const id = current.id;
    const updated = await write(
      pass,
      {
        name: `update ${step}`,
        mark: '~',
        text: `update ${spec.name}: ${differences.join(', ')}`,
        scopes: ['update:actions'],
      },
      () =>
        pass.tenant.actions.update(id, {
          code,
          runtime: RUNTIME,
          supported_triggers: [spec.trigger],
          dependencies: [],
          secrets: secretList(secrets),
        }),
    );
    if (updated) remember(pass, id, secrets);
    return deploy(pass, spec, id);
  }
  if (current.all_changes_deployed !== true) return deploy(pass, spec, current.id);
  pass.report.keep(`${spec.name}: up to date and deployed`);
}

async function findAction(pass: Auth0Pass, name: string): Promise<Management.Action | undefined> {
  // OAS get_actions `actionName`: "The name of the action to retrieve"; compared exactly here all the same.
  const found = await read(`find Action ${name}`, ['read:actions'], async () =>
    all(await pass.tenant.actions.list({ actionName: name })),
  );
  return found.find((a) => a.name === name);
}

function differencesOf(
  pass: Auth0Pass,
  current: Management.Action,
  spec: ActionScript,
  code: string,
  secrets: Record<string, string> | undefined,
): string[] {
  const out: string[] = [];
  if (current.code !== code) out.push('code');
  if (current.runtime !== RUNTIME) out.push(`runtime ${current.runtime ?? '?'} → ${RUNTIME}`);
  const triggers = current.supported_triggers ?? [];
  const trigger = triggers[0];
  if (triggers.length !== 1 || trigger?.id !== spec.trigger.id || trigger.version !== spec.trigger.version)
    out.push(`trigger → ${spec.trigger.id} ${spec.trigger.version}`);
  if ((current.dependencies ?? []).length > 0) out.push('dependencies removed (the script needs none)');
  const names = (current.secrets ?? []).map((s) => s.name ?? '').sort();
  if (secrets === undefined) out.push('secrets (the agents’ application is new)');
  else if (names.join(',') !== Object.keys(secrets).sort().join(','))
    out.push(`secrets ${Object.keys(secrets).sort().join(', ')}`);
  else if (!matchesFingerprint(canonical(secrets), pass.state.actionSecrets[current.id ?? '']))
    out.push('secrets (Auth0 never returns their values, and connect has no record of setting these)');
  return out;
}

/** Waits for the build, deploys, waits for the deploy (the plan pass only notes the deploy). */
async function deploy(pass: Auth0Pass, spec: ActionScript, id: string): Promise<void> {
  if (pass.mode === 'apply') await waitFor(pass, spec.name, id, 'built');
  const deployed = await write(
    pass,
    {
      name: `deploy Action ${spec.name}`,
      mark: '~',
      text: `deploy ${spec.name}`,
      scopes: ['create:actions'],
    },
    () => pass.tenant.actions.deploy(id),
  );
  if (deployed) await waitFor(pass, spec.name, id, 'deployed');
}

async function waitFor(pass: Auth0Pass, name: string, id: string, goal: 'built' | 'deployed'): Promise<void> {
  const started = pass.now();
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(MAX_POLL_MS, pause * 1.5)) {
    const action = await read(`wait for Action ${name}`, ['read:actions'], () => pass.tenant.actions.get(id));
    if (action.status === 'failed')
      throw new StepError(
        `build Action ${name}`,
        'Auth0 could not build the Action (status failed)',
        'open it under Actions > Library to see the build error; run again once fixed',
      );
    if (goal === 'built' ? action.status === 'built' : action.all_changes_deployed === true) return;
    if (pass.now() - started >= BUILD_TIMEOUT_MS)
      throw new StepError(
        `${goal === 'built' ? 'build' : 'deploy'} Action ${name}`,
        `still ${goal === 'built' ? `"${action.status ?? 'unknown'}"` : 'not deployed'} after ${BUILD_TIMEOUT_MS / 1000} s`,
        'Auth0 is slow to build: run the same command again in a few minutes (it carries on from here)',
      );
    await pass.sleep(pause);
  }
}

function remember(pass: Auth0Pass, id: string, secrets: Record<string, string> | undefined): void {
  if (secrets === undefined) return;
  pass.state.actionSecrets[id] = fingerprint(canonical(secrets));
  pass.saveState();
}

/** One string per set of secrets (names sorted), so a change of any value or name changes the fingerprint. */
function canonical(secrets: Record<string, string>): string {
  return JSON.stringify(Object.entries(secrets).sort(([a], [b]) => a.localeCompare(b)));
}

function secretList(secrets: Record<string, string> | undefined): { name: string; value: string }[] {
  return Object.entries(secrets ?? {}).map(([name, value]) => ({ name, value }));
}

/** The trigger versions the scripts need, checked against GET /actions/triggers (OAS get_triggers). */
export async function checkTriggers(
  pass: Auth0Pass,
  specs: readonly ActionScript[],
): Promise<Map<string, Management.ActionTrigger>> {
  const { triggers = [] } = await read('read the triggers', ['read:actions'], () =>
    pass.tenant.triggers.list(),
  );
  const found = new Map<string, Management.ActionTrigger>();
  for (const spec of specs) {
    const match = triggers.find((t) => t.id === spec.trigger.id && t.version === spec.trigger.version);
    if (!match) {
      const offered = triggers.filter((t) => t.id === spec.trigger.id).map((t) => t.version);
      throw new StepError(
        'read the triggers',
        `the tenant offers no ${spec.trigger.id} trigger at ${spec.trigger.version} (it offers ${offered.join(', ') || 'none'})`,
        'callerpop’s scripts are written for that version: ask Auth0 support whether the trigger is enabled for the tenant',
      );
    }
    if (match.runtimes && !match.runtimes.includes(RUNTIME))
      throw new StepError(
        'read the triggers',
        `${spec.trigger.id} ${spec.trigger.version} does not offer the ${RUNTIME} runtime (${match.runtimes.join(', ')})`,
        'callerpop’s scripts use the global fetch of Node 22: ask Auth0 support about the runtime',
      );
    found.set(spec.trigger.id, match);
  }
  return found;
}
