/**
 * A loopback stand-in for the parts of Auth0's Management API that `npm run connect -- auth0` uses: Actions,
 * triggers and their bindings, deploys, log streams, clients, tenant settings, the tenant phone provider and
 * the client-credentials token endpoint. Driven by the real `auth0` SDK's per-resource clients over real HTTP.
 *
 * Citations: "OAS <operationId>" is main/docs/oas/management/v2/management-api-oas.json of auth0/docs-v2 at
 * 7025885 (the last stored version; the HEAD stubs under main/docs/api/management/v2/ carry the same scopes),
 * other paths are pages of the same repository. Every answer is `{ statusCode, error, message }` on failure
 * (OAS, every operation's 4xx; the SDK keeps it as the error's `body`).
 *
 * Where the pages are silent the reading is an option (`TenantReadings`), so connect can be run under each.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TenantReadings {
  /**
   * The client-credentials token: a JWT whose payload carries `scope` (main/docs/manage-users/organizations/
   * using-tokens.mdx, the M2M token's `"scope": "scope1 scope2"`), or a value the caller cannot decode, the
   * scopes then only in the token answer's `scope` (get-management-api-access-tokens-for-production.mdx:
   * "The response will contain a signed JWT, an expiration time, the scopes granted").
   */
  token: 'jwt' | 'opaque';
  /**
   * GETs of an Action after a change before its `status` is `built` (OAS ActionBuildStatusEnum: pending,
   * building, packaged, built, retrying, failed). No page says how long a build takes; 'failed' ends in failed.
   */
  buildPolls: number | 'failed';
  /** GETs after a deploy (OAS post_deploy_action: 202 "accepted") before `all_changes_deployed` is true. */
  deployPolls: number;
  /** PATCH /actions/actions/{id} without `secrets`: the secrets are kept, or dropped (not documented). */
  omittedSecrets: 'kept' | 'dropped';
  /** GET /log-streams: `sink.httpAuthorization` comes back as set, or not at all (not documented). */
  streamAuthorization: 'returned' | 'omitted';
  /**
   * `binding_policy` of custom-phone-provider (OAS ActionBindingTypeEnum): the Management API page binds
   * nothing (configure-a-custom-phone-provider.mdx, "Management API"), the Terraform page binds it.
   */
  customPhoneBinding: 'trigger-bound' | 'entity-bound';
  /** PATCH /tenants/settings `flags`: merged into the tenant's flags, or replacing them (not stated). */
  flagsPatch: 'merge' | 'replace';
  /** PATCH of the phone provider to `twilio` without `credentials`: accepted, or refused (not stated). */
  twilioWithoutCredentials: 'accepted' | 'refused';
}

export const DEFAULT_TENANT_READINGS: TenantReadings = {
  token: 'jwt',
  buildPolls: 2,
  deployPolls: 1,
  omittedSecrets: 'kept',
  streamAuthorization: 'returned',
  customPhoneBinding: 'trigger-bound',
  flagsPatch: 'merge',
  twilioWithoutCredentials: 'refused',
};

type Json = Record<string, unknown>;
export interface FakeAction extends Json {
  id: string;
  name: string;
  supported_triggers: { id: string; version: string }[];
  code: string;
  runtime: string;
  secrets: { name: string; value: string; updated_at: string }[];
  status: string;
  all_changes_deployed: boolean;
}
export interface FakeBinding {
  id: string;
  trigger_id: string;
  display_name: string;
  action: FakeAction;
}
export interface TenantSeed {
  actions?: { name: string; trigger: string; version?: string; deployed?: boolean }[];
  /** Per trigger, the names of seeded actions bound to it, in order. */
  bindings?: Record<string, string[]>;
  logStreams?: Json[];
  clients?: Json[];
  providers?: Json[];
  flags?: Record<string, boolean>;
}
export interface FakeTenantOptions {
  domain?: string;
  clientId?: string;
  clientSecret?: string;
  /** Scopes granted to the machine-to-machine app (default: every scope the table lists). */
  scopes?: string[];
  readings?: Partial<TenantReadings>;
  seed?: TenantSeed;
  maxLogStreams?: number;
}
export interface TenantRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

/**
 * Triggers and their versions, from the `@auth0/actions` type packages (main/docs/customize/actions/
 * actions-npm.mdx, "Import"): post-login v1–v3, post-user-registration v1–v2, send-phone-message v2,
 * custom-phone-provider v1. OAS ActionTrigger: `id`, `version`, `status`, `runtimes`, `default_runtime`,
 * `binding_policy`; the status values are not enumerated.
 */
const TRIGGERS = [
  ['post-login', ['v1', 'v2', 'v3']],
  ['post-user-registration', ['v1', 'v2']],
  ['send-phone-message', ['v2']],
  ['custom-phone-provider', ['v1']],
  ['credentials-exchange', ['v2']],
] as const;

export const ALL_SCOPES = [
  'read:users',
  'update:users',
  'read:authentication_methods',
  'delete:authentication_methods',
  'read:logs',
  'read:roles',
  'create:user_tickets',
  'create:guardian_enrollment_tickets',
  'delete:sessions',
  'delete:refresh_tokens',
  ...['read', 'create', 'update', 'delete'].flatMap((verb) =>
    ['actions', 'log_streams', 'clients', 'phone_providers'].map((thing) => `${verb}:${thing}`),
  ),
  'read:tenant_settings',
  'update:tenant_settings',
];

const now = () => new Date().toISOString();
const newId = (prefix = '') => `${prefix}${randomUUID()}`;

export async function startFakeAuth0Tenant(options: FakeTenantOptions = {}) {
  const domain = options.domain ?? 'acme-test.eu.auth0.com';
  const clientId = options.clientId ?? 'connect-m2m-client';
  const clientSecret = options.clientSecret ?? 'connect-m2m-secret-0123456789';
  const readings: TenantReadings = { ...DEFAULT_TENANT_READINGS, ...options.readings };
  const granted = new Set(options.scopes ?? ALL_SCOPES);
  const tokens = new Set<string>();
  const actions = new Map<string, FakeAction & { polls: number; deployWait: number }>();
  const bindings = new Map<string, FakeBinding[]>();
  let streams: Json[] = (options.seed?.logStreams ?? []).map((s) => ({
    id: newId('lst_'),
    status: 'active',
    ...s,
  }));
  const clients: Json[] = (options.seed?.clients ?? []).map((c) => ({ client_id: newId('cl_'), ...c }));
  let providers: Json[] = (options.seed?.providers ?? []).map((p) => ({ id: newId('pro_'), ...p }));
  let flags: Record<string, boolean> = { ...options.seed?.flags };
  const requests: TenantRequest[] = [];
  const faults: { method: string; path: RegExp; status: number; message: string }[] = [];
  let baseUrl = '';

  for (const seed of options.seed?.actions ?? []) {
    const action = makeAction(seed.name, { id: seed.trigger, version: seed.version ?? 'v3' }, '/* theirs */');
    action.status = 'built';
    if (seed.deployed !== false) deploy(action);
    actions.set(action.id, action);
  }
  for (const [trigger, names] of Object.entries(options.seed?.bindings ?? {}))
    bindings.set(
      trigger,
      names.map((name) => {
        const action = [...actions.values()].find((a) => a.name === name);
        if (!action) throw new Error(`seed binds unknown action ${name}`);
        return { id: newId(), trigger_id: trigger, display_name: name, action };
      }),
    );

  function makeAction(name: string, trigger: { id: string; version: string }, code: string) {
    return {
      id: newId(),
      name,
      supported_triggers: [trigger],
      code,
      runtime: 'node22',
      dependencies: [],
      secrets: [],
      status: 'pending',
      all_changes_deployed: false,
      created_at: now(),
      updated_at: now(),
      polls: 0,
      deployWait: 0,
    } as FakeAction & { polls: number; deployWait: number };
  }
  function deploy(action: FakeAction & { deployWait: number }) {
    const version = {
      id: newId(),
      action_id: action.id,
      code: action.code,
      runtime: action.runtime,
      secrets: action.secrets.map(({ name, updated_at }) => ({ name, updated_at })),
      supported_triggers: action.supported_triggers,
      status: 'built',
      deployed: true,
      number: Number((action.deployed_version as { number?: number } | undefined)?.number ?? 0) + 1,
      created_at: now(),
    };
    action.deployed_version = version;
    action.all_changes_deployed = true;
    return version;
  }
  /**
   * OAS ActionSecretResponse: a secret comes back as `{ name, updated_at }`; "A secret's value will never be
   * returned by the API" (ActionSecretRequest.value).
   */
  function publicAction(action: FakeAction & { polls: number; deployWait: number }) {
    const { polls: _p, deployWait, ...rest } = action;
    return {
      ...rest,
      all_changes_deployed: action.all_changes_deployed && deployWait === 0,
      secrets: action.secrets.map(({ name, updated_at }) => ({ name, updated_at })),
    };
  }
  /** Each GET of an Action moves its build (and a deploy) on by one step; nothing happens on the clock. */
  function advance(action: FakeAction & { polls: number; deployWait: number }) {
    if (action.deployWait > 0) action.deployWait -= 1;
    if (action.status === 'built' || action.status === 'failed') return;
    if (readings.buildPolls === 'failed') {
      action.status = 'failed';
      return;
    }
    action.polls += 1;
    action.status = action.polls >= readings.buildPolls ? 'built' : 'building';
  }
  function bound(actionId: string): boolean {
    return [...bindings.values()].some((list) => list.some((b) => b.action.id === actionId));
  }

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, message: string, extra: Json = {}) =>
    send(res, status, { statusCode: status, error: HTTP_ERRORS[status] ?? 'Error', message, ...extra });

  async function handle(req: IncomingMessage, res: ServerResponse, entry: TenantRequest) {
    const url = new URL(req.url ?? '/', baseUrl);
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    if (method === 'POST' && url.pathname === '/oauth/token') return token(res, new URLSearchParams(raw));
    if (!url.pathname.startsWith('/api/v2/')) return fail(res, 404, 'Not Found');
    // OAS, every operation: 401 "Invalid token."
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) return fail(res, 401, 'Invalid token');
    const path = url.pathname.slice('/api/v2'.length);
    const body = (raw ? JSON.parse(raw) : undefined) as Json | undefined;
    entry.body = body;
    const fault = faults.find((f) => f.method === method && f.path.test(path));
    if (fault) {
      faults.splice(faults.indexOf(fault), 1);
      return fail(res, fault.status, fault.message);
    }
    const route = ROUTES.find((r) => r.method === method && r.path.test(path));
    if (!route) return fail(res, 404, 'Not Found');
    // OAS, each operation's 403: "Insufficient scope, expected: <scope>".
    if (!granted.has(route.scope))
      return fail(res, 403, `Insufficient scope, expected any of: ${route.scope}`, {
        errorCode: 'insufficient_scope',
      });
    const id = decodeURIComponent(route.path.exec(path)?.[1] ?? '');
    return route.run({ res, url, body: body ?? {}, id });
  }

  /**
   * api/authentication/client-credential-flow/get-token.mdx: form-encoded grant_type=client_credentials,
   * client_id, client_secret, audience (`https://{domain}/api/v2/`); 200 { access_token, token_type,
   * expires_in, scope }.
   */
  function token(res: ServerResponse, form: URLSearchParams) {
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return send(res, 401, { error: 'access_denied', error_description: 'Unauthorized' });
    if (form.get('audience') !== `https://${domain}/api/v2/`)
      return send(res, 403, {
        error: 'access_denied',
        error_description: 'Service not enabled within domain',
      });
    const scope = [...granted].join(' ');
    const issued = Math.floor(Date.now() / 1000);
    const claims = {
      iss: `https://${domain}/`,
      sub: `${clientId}@clients`,
      aud: `https://${domain}/api/v2/`,
      iat: issued,
      exp: issued + 86400,
      scope,
      gty: 'client-credentials',
    };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
    const jwt = `${unsigned}.${createHmac('sha256', clientSecret).update(unsigned).digest('base64url')}`;
    const value = readings.token === 'jwt' ? jwt : randomBytes(24).toString('hex');
    tokens.add(value);
    return send(res, 200, { access_token: value, token_type: 'Bearer', expires_in: 86400, scope });
  }

  interface Ctx {
    res: ServerResponse;
    url: URL;
    body: Json;
    id: string;
  }
  const action = (c: Ctx) => actions.get(c.id);
  const page = <T>(c: Ctx, items: T[], key: string) => {
    const n = Number(c.url.searchParams.get('page') ?? 0);
    const per = Number(c.url.searchParams.get('per_page') ?? 50);
    return { total: items.length, page: n, per_page: per, [key]: items.slice(n * per, n * per + per) };
  };
  const ROUTES: { method: string; path: RegExp; scope: string; run: (c: Ctx) => void }[] = [
    {
      // OAS get_actions: actionName, triggerId, page, per_page → { total, page, per_page, actions }.
      method: 'GET',
      path: /^\/actions\/actions$/,
      scope: 'read:actions',
      run: (c) => {
        const name = c.url.searchParams.get('actionName');
        const trigger = c.url.searchParams.get('triggerId');
        const found = [...actions.values()]
          .filter((a) => !name || a.name === name)
          .filter((a) => !trigger || a.supported_triggers.some((t) => t.id === trigger));
        send(c.res, 200, page(c, found.map(publicAction), 'actions'));
      },
    },
    {
      // OAS post_action: 201; name and supported_triggers required; runtime "defaults to node22".
      method: 'POST',
      path: /^\/actions\/actions$/,
      scope: 'create:actions',
      run: (c) => {
        const triggers = c.body.supported_triggers as { id: string; version: string }[] | undefined;
        const first = triggers?.[0];
        if (typeof c.body.name !== 'string' || !first)
          return fail(c.res, 400, 'Payload validation error: name and supported_triggers are required');
        const created = makeAction(c.body.name, first, String(c.body.code ?? ''));
        created.runtime = String(c.body.runtime ?? 'node22');
        created.secrets = secretsOf(c.body.secrets);
        actions.set(created.id, created);
        send(c.res, 201, publicAction(created));
      },
    },
    {
      method: 'GET',
      path: /^\/actions\/actions\/([^/]+)$/,
      scope: 'read:actions',
      run: (c) => {
        const found = action(c);
        if (!found) return fail(c.res, 404, 'The action does not exist.');
        advance(found);
        send(c.res, 200, publicAction(found));
      },
    },
    {
      // OAS patch_action: 200; "updating it will not affect any user flows until the action is deployed".
      method: 'PATCH',
      path: /^\/actions\/actions\/([^/]+)$/,
      scope: 'update:actions',
      run: (c) => {
        const found = action(c);
        if (!found) return fail(c.res, 404, 'Action not found and cannot be updated.');
        if (typeof c.body.code === 'string') found.code = c.body.code;
        if (typeof c.body.runtime === 'string') found.runtime = c.body.runtime;
        if (Array.isArray(c.body.supported_triggers))
          found.supported_triggers = c.body.supported_triggers as FakeAction['supported_triggers'];
        if (Array.isArray(c.body.secrets)) found.secrets = secretsOf(c.body.secrets);
        else if (readings.omittedSecrets === 'dropped') found.secrets = [];
        Object.assign(found, { status: 'pending', polls: 0, all_changes_deployed: false, updated_at: now() });
        send(c.res, 200, publicAction(found));
      },
    },
    {
      // OAS delete_action: 204; "An action must be unbound from all triggers before it can be deleted."
      method: 'DELETE',
      path: /^\/actions\/actions\/([^/]+)$/,
      scope: 'delete:actions',
      run: (c) => {
        if (!action(c)) return fail(c.res, 404, 'The action version does not exist.');
        if (bound(c.id) && c.url.searchParams.get('force') !== 'true')
          return fail(c.res, 400, 'An action must be unbound from all triggers before it can be deleted.');
        actions.delete(c.id);
        send(c.res, 204);
      },
    },
    {
      // OAS post_deploy_action: 202, the new version. A draft not yet built is refused, as Auth0 answers it
      // (auth0/auth0-deploy-cli#395: "A draft must be in the 'built' state before it can be deployed.").
      method: 'POST',
      path: /^\/actions\/actions\/([^/]+)\/deploy$/,
      scope: 'create:actions',
      run: (c) => {
        const found = action(c);
        if (!found) return fail(c.res, 404, 'The action does not exist.');
        if (found.status !== 'built')
          return fail(c.res, 400, "A draft must be in the 'built' state before it can be deployed.");
        const version = deploy(found);
        found.deployWait = readings.deployPolls;
        send(c.res, 202, version);
      },
    },
    {
      // OAS get_triggers → { triggers: ActionTrigger[] }.
      method: 'GET',
      path: /^\/actions\/triggers$/,
      scope: 'read:actions',
      run: (c) =>
        send(c.res, 200, {
          triggers: TRIGGERS.flatMap(([id, versions]) =>
            versions.map((version, i) => ({
              id,
              version,
              status: i === versions.length - 1 ? 'CURRENT' : 'DEPRECATED',
              runtimes: ['node18', 'node22'],
              default_runtime: 'node22',
              compatible_triggers: [],
              binding_policy: id === 'custom-phone-provider' ? readings.customPhoneBinding : 'trigger-bound',
            })),
          ),
        }),
    },
    {
      // OAS get_bindings: "The list of actions returned reflects the order in which they will be executed".
      method: 'GET',
      path: /^\/actions\/triggers\/([^/]+)\/bindings$/,
      scope: 'read:actions',
      run: (c) => {
        const list = (bindings.get(c.id) ?? []).map((b) => ({
          ...b,
          action: publicAction(b.action as never),
        }));
        send(c.res, 200, page(c, list, 'bindings'));
      },
    },
    {
      // OAS patch_bindings: "The order in which the actions are provided will determine the order in which
      // they are executed"; the whole list is replaced (session-expiry-enterprise-connections.mdx, "Bind the
      // Action to the Login trigger"). Only deployed actions can be bound ("Once an action is created and
      // deployed, it must be attached"); `entity-bound` triggers are not the tenant's to manage (OAS
      // ActionBindingTypeEnum).
      method: 'PATCH',
      path: /^\/actions\/triggers\/([^/]+)\/bindings$/,
      scope: 'update:actions',
      run: (c) => {
        if (c.id === 'custom-phone-provider' && readings.customPhoneBinding === 'entity-bound')
          return fail(c.res, 400, 'Tenants cannot manage entity-bound bindings.');
        const refs = (c.body.bindings ?? []) as {
          ref: { type: string; value: string };
          display_name?: string;
        }[];
        const before = bindings.get(c.id) ?? [];
        const next: FakeBinding[] = [];
        for (const { ref, display_name } of refs) {
          const target =
            ref.type === 'binding_id'
              ? before.find((b) => b.id === ref.value)?.action
              : [...actions.values()].find((a) => (ref.type === 'action_name' ? a.name : a.id) === ref.value);
          if (!target) return fail(c.res, 400, `Action ${ref.value} does not exist.`);
          if (!target.deployed_version)
            return fail(c.res, 400, `Action ${target.name} has not been deployed.`);
          if (!target.supported_triggers.some((t) => t.id === c.id))
            return fail(c.res, 400, `Action ${target.name} does not support the ${c.id} trigger.`);
          const kept = before.find((b) => b.action.id === target.id);
          next.push({
            id: kept?.id ?? newId(),
            trigger_id: c.id,
            display_name: display_name ?? target.name,
            action: target,
          });
        }
        bindings.set(c.id, next);
        send(c.res, 200, { bindings: next.map((b) => ({ ...b, action: publicAction(b.action as never) })) });
      },
    },
    {
      // OAS get_log-streams: a bare array. Whether `sink.httpAuthorization` is returned is not documented.
      method: 'GET',
      path: /^\/log-streams$/,
      scope: 'read:log_streams',
      run: (c) => send(c.res, 200, streams.map(publicStream)),
    },
    {
      // OAS post_log-streams: 200; httpEndpoint must match ^https://; 409 "You have reached the maximum
      // number of log streams for your account."
      method: 'POST',
      path: /^\/log-streams$/,
      scope: 'create:log_streams',
      run: (c) => {
        const sink = (c.body.sink ?? {}) as Json;
        if (c.body.type !== 'http' || !/^https:\/\//.test(String(sink.httpEndpoint ?? '')))
          return fail(c.res, 400, 'Payload validation error: sink.httpEndpoint must match ^https://');
        if (streams.length >= (options.maxLogStreams ?? 10))
          return fail(c.res, 409, 'You have reached the maximum number of log streams for your account.');
        const stream = { id: newId('lst_'), status: 'active', ...c.body };
        streams.push(stream);
        send(c.res, 200, publicStream(stream));
      },
    },
    {
      // OAS patch_log-streams_by_id: "name, status, sink" (and filters, isPriority, pii_config in its schema).
      method: 'PATCH',
      path: /^\/log-streams\/([^/]+)$/,
      scope: 'update:log_streams',
      run: (c) => {
        const stream = streams.find((s) => s.id === c.id);
        if (!stream) return fail(c.res, 404, 'The log stream does not exist.');
        const { sink, ...rest } = c.body;
        Object.assign(stream, rest, sink ? { sink: { ...(stream.sink as Json), ...(sink as Json) } } : {});
        send(c.res, 200, publicStream(stream));
      },
    },
    {
      method: 'DELETE',
      path: /^\/log-streams\/([^/]+)$/,
      scope: 'delete:log_streams',
      run: (c) => {
        if (!streams.some((s) => s.id === c.id)) return fail(c.res, 404, 'The log stream does not exist.');
        streams = streams.filter((s) => s.id !== c.id);
        send(c.res, 204);
      },
    },
    {
      // OAS get_clients: fields/include_fields, page/per_page, include_totals → { start, limit, total, clients }.
      method: 'GET',
      path: /^\/clients$/,
      scope: 'read:clients',
      run: (c) => {
        const n = Number(c.url.searchParams.get('page') ?? 0);
        const per = Number(c.url.searchParams.get('per_page') ?? 50);
        const items = clients.slice(n * per, n * per + per).map((cl) => pick(cl, c.url));
        send(c.res, 200, { start: n * per, limit: per, total: clients.length, clients: items });
      },
    },
    {
      // OAS post_clients: 201 with the generated `client_secret` ("We recommend leaving the client_secret
      // parameter unspecified to allow the generation of a safe secret").
      method: 'POST',
      path: /^\/clients$/,
      scope: 'create:clients',
      run: (c) => {
        if (typeof c.body.name !== 'string' || c.body.name === '')
          return fail(c.res, 400, 'Payload validation error: name is required');
        const created = {
          ...c.body,
          client_id: randomBytes(16).toString('base64url'),
          client_secret: randomBytes(48).toString('base64url'),
        };
        clients.push(created);
        send(c.res, 201, created);
      },
    },
    {
      method: 'GET',
      path: /^\/clients\/([^/]+)$/,
      scope: 'read:clients',
      run: (c) => {
        const found = clients.find((cl) => cl.client_id === c.id);
        if (!found) return fail(c.res, 404, 'The client does not exist');
        send(c.res, 200, pick(found, c.url));
      },
    },
    {
      method: 'PATCH',
      path: /^\/clients\/([^/]+)$/,
      scope: 'update:clients',
      run: (c) => {
        const found = clients.find((cl) => cl.client_id === c.id);
        if (!found) return fail(c.res, 404, 'The client does not exist');
        Object.assign(found, c.body);
        send(c.res, 200, found);
      },
    },
    {
      method: 'DELETE',
      path: /^\/clients\/([^/]+)$/,
      scope: 'delete:clients',
      run: (c) => {
        const i = clients.findIndex((cl) => cl.client_id === c.id);
        if (i >= 0) clients.splice(i, 1);
        send(c.res, 204);
      },
    },
    {
      // OAS tenant_settings_route; TenantSettingsFlags.disable_management_api_sms_obfuscation: "If true, SMS
      // phone numbers will not be obfuscated in Management API GET calls."
      method: 'GET',
      path: /^\/tenants\/settings$/,
      scope: 'read:tenant_settings',
      run: (c) => send(c.res, 200, { friendly_name: 'Acme', flags }),
    },
    {
      method: 'PATCH',
      path: /^\/tenants\/settings$/,
      scope: 'update:tenant_settings',
      run: (c) => {
        const patch = (c.body.flags ?? {}) as Record<string, boolean>;
        flags = readings.flagsPatch === 'merge' ? { ...flags, ...patch } : { ...patch };
        send(c.res, 200, { friendly_name: 'Acme', flags });
      },
    },
    {
      // OAS get_branding_phone_providers → { providers: PhoneProviderSchemaMasked[] } (no credentials).
      method: 'GET',
      path: /^\/branding\/phone\/providers$/,
      scope: 'read:phone_providers',
      run: (c) => send(c.res, 200, { providers: providers.map(maskedProvider) }),
    },
    {
      // OAS create_phone_provider: 201; `name` and `credentials` required; 409 "Custom phone provider
      // conflict.". A `custom` provider without a deployed custom-phone-provider Action is refused with
      // errorCode custom_email_provider_deployed_action_not_found (configure-a-custom-phone-provider.mdx).
      method: 'POST',
      path: /^\/branding\/phone\/providers$/,
      scope: 'create:phone_providers',
      run: (c) => {
        if (providers.length > 0) return fail(c.res, 409, 'Custom phone provider conflict.');
        const refused = refuseProvider(c.body, true);
        if (refused) return fail(c.res, 400, refused.message, refused.extra);
        const created = { id: newId('pro_'), tenant: domain, channel: 'phone', disabled: false, ...c.body };
        providers = [created];
        send(c.res, 201, maskedProvider(created));
      },
    },
    {
      method: 'PATCH',
      path: /^\/branding\/phone\/providers\/([^/]+)$/,
      scope: 'update:phone_providers',
      run: (c) => {
        const found = providers.find((p) => p.id === c.id);
        if (!found) return fail(c.res, 404, 'Phone provider has not been configured.');
        const merged = { ...found, ...c.body };
        const refused = refuseProvider(
          c.body,
          c.body.name !== undefined && c.body.name !== found.name,
          merged,
        );
        if (refused) return fail(c.res, 400, refused.message, refused.extra);
        Object.assign(found, merged);
        send(c.res, 200, maskedProvider(found));
      },
    },
    {
      method: 'DELETE',
      path: /^\/branding\/phone\/providers\/([^/]+)$/,
      scope: 'delete:phone_providers',
      run: (c) => {
        if (!providers.some((p) => p.id === c.id))
          return fail(c.res, 404, 'Phone provider has not been configured.');
        providers = providers.filter((p) => p.id !== c.id);
        send(c.res, 204);
      },
    },
  ];

  function refuseProvider(body: Json, nameChanges: boolean, merged: Json = body) {
    if (merged.name === 'custom') {
      const deployed = [...actions.values()].some(
        (a) => a.deployed_version && a.supported_triggers.some((t) => t.id === 'custom-phone-provider'),
      );
      if (!deployed)
        return {
          message: 'No deployed action found for the custom phone provider.',
          extra: { errorCode: 'custom_email_provider_deployed_action_not_found' },
        };
    }
    // OAS TwilioProviderCredentials requires `auth_token`; whether a PATCH that switches to twilio may leave
    // it out is not stated (TenantReadings.twilioWithoutCredentials).
    const credentials = body.credentials as { auth_token?: unknown } | undefined;
    if (
      merged.name === 'twilio' &&
      nameChanges &&
      !credentials?.auth_token &&
      readings.twilioWithoutCredentials === 'refused'
    )
      return { message: 'Payload validation error: credentials.auth_token is required', extra: {} };
    return undefined;
  }
  function maskedProvider(p: Json) {
    const { credentials: _secret, ...rest } = p;
    return rest;
  }
  function publicStream(s: Json) {
    if (readings.streamAuthorization === 'returned') return s;
    const { httpAuthorization: _hidden, ...sink } = (s.sink ?? {}) as Json;
    return { ...s, sink };
  }

  const server = createServer((req, res) => {
    const entry: TenantRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0] ?? '/',
      body: undefined,
      status: 0,
    };
    requests.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    handle(req, res, entry).catch((e: unknown) => fail(res, 500, String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    domain,
    env: {
      AUTH0_DOMAIN: domain,
      AUTH0_CLIENT_ID: clientId,
      AUTH0_CLIENT_SECRET: clientSecret,
      AUTH0_API_BASE_URL: baseUrl,
    },
    requests,
    /** Requests that change something (the token endpoint excluded). */
    writes: () => requests.filter((r) => r.method !== 'GET' && r.path !== '/oauth/token'),
    actions: () => [...actions.values()],
    actionNamed: (name: string) => [...actions.values()].find((a) => a.name === name),
    /** A trigger's bound action names, in execution order. */
    boundNames: (trigger: string) => (bindings.get(trigger) ?? []).map((b) => b.action.name),
    bindingsOf: (trigger: string) => bindings.get(trigger) ?? [],
    streams: () => streams,
    clients: () => clients,
    providers: () => providers,
    flags: () => flags,
    revoke: (scope: string) => granted.delete(scope),
    /** The next request `method path` answers `status` with Auth0's error body. */
    failNext(method: string, path: RegExp, status: number, message: string) {
      faults.push({ method, path, status, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeAuth0Tenant = Awaited<ReturnType<typeof startFakeAuth0Tenant>>;

const HTTP_ERRORS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function secretsOf(value: unknown) {
  return Array.isArray(value)
    ? (value as { name: string; value: string }[]).map((s) => ({
        name: s.name,
        value: s.value,
        updated_at: now(),
      }))
    : [];
}

/**
 * OAS get_clients / get_clients_by_id: `fields` (comma-separated) with `include_fields`; "client_secret … can
 * only be retrieved with the read:client_keys or read:client_credentials scopes" (never granted here).
 */
function pick(stored: Json, url: URL): Json {
  const { client_secret: _key, ...client } = stored;
  const fields = url.searchParams.get('fields');
  const include = url.searchParams.get('include_fields') !== 'false';
  if (!fields) return client;
  const names = new Set(fields.split(','));
  return Object.fromEntries(Object.entries(client).filter(([k]) => names.has(k) === include));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      data += chunk;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
