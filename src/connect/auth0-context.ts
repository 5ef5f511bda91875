import { ActionsClient } from 'auth0/actions';
import { TriggersClient } from 'auth0/actions/triggers';
import { BindingsClient } from 'auth0/actions/triggers/bindings';
import { ProvidersClient } from 'auth0/branding/phone/providers';
import { ClientsClient } from 'auth0/clients';
import { LogStreamsClient } from 'auth0/logStreams';
import { SettingsClient } from 'auth0/tenants/settings';
import type { ManagementApi } from '../auth0-api/index.js';
import type { Config } from '../config.js';
import type { Auth0Options } from './cli-args.js';
import type { Reporter } from './report.js';
import type { Auth0State } from './state.js';
import { auth0Failure } from './step-error.js';

/**
 * One pass of `connect auth0`. Every run makes two: a `plan` pass that reads the tenant and decides, noting
 * the scopes each write would need (a dry run prints it and stops), then, only if the application holds
 * them all, an `apply` pass that reads again and writes. So a missing scope stops the run before its first
 * write, and both passes share one code path: what the dry run prints is what the run does.
 */

export type Auth0Config = Pick<
  Config,
  | 'PUBLIC_BASE_URL'
  | 'AUTH0_DOMAIN'
  | 'AUTH0_WEBHOOK_SECRET'
  | 'AUTH0_LOG_STREAM_TOKEN'
  | 'AGENT_ROLES_CLAIM'
  | 'AUTH0_AGENT_CLIENT_ID'
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_AUTH_TOKEN'
>;

export interface TenantClients {
  actions: ActionsClient;
  triggers: TriggersClient;
  bindings: BindingsClient;
  logStreams: LogStreamsClient;
  clients: ClientsClient;
  settings: SettingsClient;
  providers: ProvidersClient;
}

/** The per-resource SDK clients over the shared Management API client (its token and rate limiter). */
export function tenantClients(api: ManagementApi): TenantClients {
  const options = api.clientOptions;
  return {
    actions: new ActionsClient(options),
    triggers: new TriggersClient(options),
    bindings: new BindingsClient(options),
    logStreams: new LogStreamsClient(options),
    clients: new ClientsClient(options),
    settings: new SettingsClient(options),
    providers: new ProvidersClient(options),
  };
}

export interface Auth0Pass {
  mode: 'plan' | 'apply';
  report: Reporter;
  tenant: TenantClients;
  config: Auth0Config;
  options: Auth0Options;
  actionsDir: string;
  state: Auth0State;
  /** Writes the state file (apply pass only). */
  saveState(): void;
  /** Scopes the writes of this pass need, each with what it is for (filled by the plan pass). */
  needs: Map<string, Set<string>>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** What earlier steps of this pass created, for later ones (bindings, the agent-roles secret). */
  made: { actionIds: Map<string, string>; agentClientId?: string };
}

/**
 * A write: in the plan pass only noted (and shown, in a dry run); in the apply pass done, then reported.
 * Returns undefined in the plan pass. A failure names the step and Auth0's answer.
 */
export async function write<T>(
  pass: Auth0Pass,
  step: { name: string; mark: '+' | '~' | '-'; text: string; scopes: string[] },
  run: () => Promise<T>,
): Promise<T | undefined> {
  for (const scope of step.scopes) {
    const list = pass.needs.get(scope) ?? new Set<string>();
    list.add(step.name);
    pass.needs.set(scope, list);
  }
  if (pass.mode === 'plan') {
    pass.report.change(step.mark, step.text);
    return undefined;
  }
  let result: T;
  try {
    result = await run();
  } catch (error) {
    throw auth0Failure(step.name, error, step.scopes);
  }
  pass.report.change(step.mark, step.text);
  return result;
}

/** A read, its failure named by step (`scopes`: what a 403 means here). */
export async function read<T>(step: string, scopes: string[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw auth0Failure(step, error, scopes);
  }
}

/** Every item of an SDK Page (it fetches the following pages itself). */
export async function all<T>(page: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of page) items.push(item);
  return items;
}
