import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Auth0Options } from './cli-args.js';

/**
 * callerpop's Actions: which script of actions/ goes to which trigger, at which version, with which secrets,
 * and in which order where several share a trigger. The name (`callerpop-<script>`) is the marker connect
 * finds them by again; docs/auth0.md's Deploy CLI example uses the same names.
 *
 * Trigger versions: the `@auth0/actions` type packages (auth0/docs-v2 main/docs/customize/actions/
 * actions-npm.mdx, "Import") list post-login v1–v3, post-user-registration v1–v2, send-phone-message v2 and
 * custom-phone-provider v1; the newest of each is what the scripts are written against (their event and api
 * objects, main/docs/actions/reference/<trigger>/). connect checks them against GET /actions/triggers.
 *
 * Order on post-login: the account refresh first, so the account is in the index before anything else
 * happens in the login (and whether or not the user finishes what follows); then verify-phone, whose
 * redirect suspends the flow until the user comes back ("any Actions bound to the post-login triggers that
 * run after the Action invoking the redirect will not execute until the authentication flow has been
 * resumed", main/docs/customize/actions/redirect-with-actions.mdx): the refresh must not wait for it; then
 * agent-roles, which only sets a claim on the token of a login that completes, so nothing depends on it and
 * it does not depend on whether claims set before a redirect survive it (not documented). The block goes
 * after the tenant's own Actions: theirs keep their places and run as before.
 */

export type TriggerId =
  | 'post-login'
  | 'post-user-registration'
  | 'send-phone-message'
  | 'custom-phone-provider';

export interface ActionScript {
  script: string;
  name: string;
  trigger: { id: TriggerId; version: string };
  secrets: (input: SecretInput) => Record<string, string> | undefined;
}

export interface SecretInput {
  config: Pick<Config, 'PUBLIC_BASE_URL' | 'AUTH0_WEBHOOK_SECRET' | 'AGENT_ROLES_CLAIM'>;
  /** The agents' application, once known (undefined in a dry run before it is created). */
  agentClientId: string | undefined;
}

/** CALLERPOP_URL = PUBLIC_BASE_URL and CALLERPOP_SECRET = AUTH0_WEBHOOK_SECRET (docs/auth0.md, "Install the Actions"). */
const callerpop = ({ config }: SecretInput) => ({
  CALLERPOP_URL: config.PUBLIC_BASE_URL,
  CALLERPOP_SECRET: config.AUTH0_WEBHOOK_SECRET,
});

const script = (
  name: string,
  id: TriggerId,
  version: string,
  secrets: ActionScript['secrets'] = callerpop,
): ActionScript => ({
  script: name,
  name: `callerpop-${name}`,
  trigger: { id, version },
  secrets,
});

/** Every callerpop Action, in binding order within each trigger. */
export const ACTION_SCRIPTS: readonly ActionScript[] = [
  script('post-user-registration', 'post-user-registration', 'v2'),
  script('post-login', 'post-login', 'v3'),
  script('verify-phone', 'post-login', 'v3'),
  script('agent-roles', 'post-login', 'v3', ({ config, agentClientId }) =>
    agentClientId === undefined
      ? undefined
      : { AGENT_CLIENT_ID: agentClientId, AGENT_ROLES_CLAIM: config.AGENT_ROLES_CLAIM },
  ),
  script('send-phone-message', 'send-phone-message', 'v2'),
  script('custom-phone-provider', 'custom-phone-provider', 'v1'),
];

export const isCallerpopAction = (name: string | undefined) => name?.startsWith('callerpop-') === true;

/** The scripts this run installs: the two feed scripts and agent-roles always, the rest as asked. */
export function wantedScripts(options: Pick<Auth0Options, 'phone' | 'verifyPhone'>): ActionScript[] {
  const wanted = new Set(['post-user-registration', 'post-login', 'agent-roles']);
  if (options.verifyPhone) wanted.add('verify-phone');
  if (options.phone === 'classic') wanted.add('send-phone-message');
  if (options.phone === 'upe') wanted.add('custom-phone-provider');
  return ACTION_SCRIPTS.filter((s) => wanted.has(s.script));
}

export function readScript(actionsDir: string, spec: ActionScript): string {
  return readFileSync(join(actionsDir, `${spec.script}.js`), 'utf8');
}

/** Position of a callerpop Action among callerpop's own on its trigger (unknown names last). */
export function callerpopOrder(name: string): number {
  const i = ACTION_SCRIPTS.findIndex((s) => s.name === name);
  return i === -1 ? ACTION_SCRIPTS.length : i;
}
