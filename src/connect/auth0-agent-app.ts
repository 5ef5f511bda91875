import type { Management } from 'auth0';
import { httpStatusOf } from '../auth0-api/index.js';
import { type Auth0Pass, all, read, write } from './auth0-context.js';
import type { Auth0State } from './state.js';
import { auth0Failure } from './step-error.js';

/**
 * The agents' sign-in application (docs/agent-console.md, "Sign-in"): a Regular Web Application that
 * callerpop's console signs agents in with, authorization code + PKCE with the client secret posted at the
 * token endpoint (src/console/oidc.ts: `ClientSecretPost`), so `token_endpoint_auth_method`
 * `client_secret_post` and the `authorization_code` grant; callback {PUBLIC_BASE_URL}/agent/callback;
 * {PUBLIC_BASE_URL}/agent/login as logout return and login-initiation URL. OIDC conformant set explicitly:
 * its documented default differs between pages (OAS `false`, the CIBA guide `true`).
 *
 * Found by `client_metadata.callerpop = "agents"` (connect's marker: the list has no name filter, OAS
 * get_clients), else by AUTH0_AGENT_CLIENT_ID (an application made by hand: connect only adds to its lists,
 * and records what it added, so --undo takes out exactly that). A created application's secret is printed
 * once, at once, and kept nowhere (OAS post_clients returns it; connect never asks for it again).
 */

export const AGENT_APP_NAME = 'callerpop agents';
export const MARKER = { callerpop: 'agents' };
const FIELDS =
  'client_id,name,app_type,client_metadata,callbacks,allowed_logout_urls,grant_types,token_endpoint_auth_method,oidc_conformant,initiate_login_uri';

type Client = Management.Client;

export async function findAgentApp(
  pass: Auth0Pass,
): Promise<{ client: Client; marked: boolean } | undefined> {
  const clients = await read('read the applications', ['read:clients'], async () =>
    all(await pass.tenant.clients.list({ fields: FIELDS, include_fields: true, per_page: 100 })),
  );
  const marked = clients.find((c) => c.client_metadata?.callerpop === MARKER.callerpop);
  if (marked) return { client: marked, marked: true };
  const configured = pass.config.AUTH0_AGENT_CLIENT_ID;
  if (!configured) return undefined;
  try {
    return {
      client: await pass.tenant.clients.get(configured, { fields: FIELDS, include_fields: true }),
      marked: false,
    };
  } catch (error) {
    if (httpStatusOf(error) !== 404)
      throw auth0Failure('read the agents’ application', error, ['read:clients']);
    pass.report.warn(
      `AUTH0_AGENT_CLIENT_ID (${configured}) names no application of this tenant: a new one is made`,
    );
    return undefined;
  }
}

export async function ensureAgentApp(pass: Auth0Pass): Promise<void> {
  const base = pass.config.PUBLIC_BASE_URL;
  const want = {
    callbacks: [`${base}/agent/callback`],
    allowed_logout_urls: [`${base}/agent/login`],
    grant_types: ['authorization_code'],
  };
  const found = await findAgentApp(pass);
  if (!found?.client.client_id) {
    const created = await write(
      pass,
      {
        name: 'create the agents’ application',
        mark: '+',
        text: `create application "${AGENT_APP_NAME}" (Regular Web Application, callback ${want.callbacks[0]}); its client secret is shown once`,
        scopes: ['create:clients'],
      },
      () =>
        pass.tenant.clients.create({
          name: AGENT_APP_NAME,
          description: 'callerpop agent console sign-in (made by npm run connect -- auth0)',
          app_type: 'regular_web',
          ...want,
          initiate_login_uri: `${base}/agent/login`,
          oidc_conformant: true,
          token_endpoint_auth_method: 'client_secret_post',
          client_metadata: MARKER,
        }),
    );
    if (created?.client_id) {
      pass.made.agentClientId = created.client_id;
      pass.report.secret('AUTH0_AGENT_CLIENT_ID', created.client_id, 'the agents’ application');
      if (created.client_secret)
        pass.report.secret(
          'AUTH0_AGENT_CLIENT_SECRET',
          created.client_secret,
          'shown this once: connect keeps it nowhere; put it in callerpop’s secrets now (.env or wrangler secret put)',
        );
    }
    return;
  }
  const client = found.client;
  const id = client.client_id ?? '';
  pass.made.agentClientId = id;
  if (pass.config.AUTH0_AGENT_CLIENT_ID && pass.config.AUTH0_AGENT_CLIENT_ID !== id)
    pass.report.warn(
      `AUTH0_AGENT_CLIENT_ID is ${pass.config.AUTH0_AGENT_CLIENT_ID}, but callerpop’s application is ${id}: set AUTH0_AGENT_CLIENT_ID=${id}`,
    );
  const added = {
    callbacks: missing(client.callbacks, want.callbacks),
    allowed_logout_urls: missing(client.allowed_logout_urls, want.allowed_logout_urls),
    grant_types: missing(client.grant_types, want.grant_types),
  };
  const patch: Management.UpdateClientRequestContent = {};
  const changes: string[] = [];
  for (const key of ['callbacks', 'allowed_logout_urls', 'grant_types'] as const)
    if (added[key].length > 0) {
      patch[key] = [...(client[key] ?? []), ...added[key]];
      changes.push(`${key} + ${added[key].join(', ')}`);
    }
  if (client.token_endpoint_auth_method !== 'client_secret_post') {
    patch.token_endpoint_auth_method = 'client_secret_post';
    changes.push('token endpoint authentication → client_secret_post (what the console sends)');
  }
  if (client.oidc_conformant !== true) {
    patch.oidc_conformant = true;
    changes.push('OIDC conformant');
  }
  if (client.app_type && client.app_type !== 'regular_web')
    pass.report.warn(
      `"${client.name}" is a ${client.app_type} application; the console signs in as a Regular Web Application`,
    );
  if (changes.length === 0) {
    pass.report.keep(`application "${client.name}" (${id}): as the console needs it`);
    return;
  }
  await write(
    pass,
    {
      name: 'update the agents’ application',
      mark: '~',
      text: `update "${client.name}": ${changes.join('; ')}`,
      scopes: ['update:clients'],
    },
    async () => {
      const updated = await pass.tenant.clients.update(id, patch);
      if (!found.marked) {
        const previous: AddedRecord['previous'] = {};
        if (patch.token_endpoint_auth_method)
          previous.token_endpoint_auth_method = client.token_endpoint_auth_method ?? 'none';
        if (patch.oidc_conformant) previous.oidc_conformant = client.oidc_conformant ?? false;
        recordAdded(pass, id, added, previous);
      }
      return updated;
    },
  );
}

function missing(have: readonly string[] | undefined, want: readonly string[]): string[] {
  return want.filter((w) => !(have ?? []).includes(w));
}

type AddedRecord = NonNullable<Auth0State['agentAppAdded']>;

function recordAdded(
  pass: Auth0Pass,
  clientId: string,
  added: Record<'callbacks' | 'allowed_logout_urls' | 'grant_types', string[]>,
  previous: AddedRecord['previous'],
) {
  const before = pass.state.agentAppAdded?.clientId === clientId ? pass.state.agentAppAdded : undefined;
  pass.state.agentAppAdded = {
    clientId,
    // The first value recorded is the one from before connect: a later run would find connect's own.
    previous: { ...previous, ...before?.previous },
    callbacks: [...new Set([...(before?.callbacks ?? []), ...added.callbacks])],
    allowed_logout_urls: [...new Set([...(before?.allowed_logout_urls ?? []), ...added.allowed_logout_urls])],
    grant_types: [...new Set([...(before?.grant_types ?? []), ...added.grant_types])],
  };
  pass.saveState();
}
