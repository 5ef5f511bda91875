import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import {
  type FakeAuth0Tenant,
  startFakeAuth0Tenant,
  type TenantSeed,
} from '../../test/support/fake-auth0-tenant.js';
import { type ConnectSandbox, connectSandbox } from './test-support.js';

/**
 * `npm run connect -- auth0` against the loopback tenant (test/support/fake-auth0-tenant.ts), through the real
 * `auth0` SDK over HTTP: a fresh tenant, a tenant with its own Actions bound, a rerun, a dry run.
 */

const BASE = 'https://pop.acme.example';
const script = (name: string) => readFileSync(new URL(`../../actions/${name}.js`, import.meta.url), 'utf8');

let tenant: FakeAuth0Tenant;
let box: ConnectSandbox;
afterEach(async () => {
  await tenant?.close();
  box?.close();
});

async function start(seed: TenantSeed = {}) {
  tenant = await startFakeAuth0Tenant({ seed });
  box = connectSandbox(tenant.env);
}

describe('connect auth0 on a fresh tenant', () => {
  it('installs, builds, deploys and binds callerpop’s Actions with their code, secrets and runtime', async () => {
    await start();
    const { code, stdout, stderr } = await box.run(['auth0', '--verify-phone']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = {
      'callerpop-post-user-registration': ['post-user-registration', 'v2'],
      'callerpop-post-login': ['post-login', 'v3'],
      'callerpop-verify-phone': ['post-login', 'v3'],
      'callerpop-agent-roles': ['post-login', 'v3'],
    };
    expect(
      tenant
        .actions()
        .map((a) => a.name)
        .sort(),
    ).toEqual(Object.keys(expected).sort());
    for (const [name, [trigger, version]] of Object.entries(expected)) {
      const action = tenant.actionNamed(name);
      expect(action?.code).toBe(script(name.replace('callerpop-', '')));
      expect(action?.runtime).toBe('node22');
      expect(action?.supported_triggers).toEqual([{ id: trigger, version }]);
      expect(action?.deployed_version).toBeDefined();
      expect(action?.all_changes_deployed).toBe(true);
    }
    const secrets = (name: string) =>
      Object.fromEntries((tenant.actionNamed(name)?.secrets ?? []).map((s) => [s.name, s.value]));
    expect(secrets('callerpop-post-login')).toEqual({
      CALLERPOP_URL: BASE,
      CALLERPOP_SECRET: TEST_ENV.AUTH0_WEBHOOK_SECRET,
    });
    const agents = tenant.clients()[0];
    expect(secrets('callerpop-agent-roles')).toEqual({
      AGENT_CLIENT_ID: agents?.client_id,
      AGENT_ROLES_CLAIM: 'https://callerpop/roles',
    });
    // Refresh first, then the redirect, then the claim (action-scripts.ts says why).
    expect(tenant.boundNames('post-login')).toEqual([
      'callerpop-post-login',
      'callerpop-verify-phone',
      'callerpop-agent-roles',
    ]);
    expect(tenant.boundNames('post-user-registration')).toEqual(['callerpop-post-user-registration']);
    // --phone none (the default): no phone script, no phone provider.
    expect(tenant.boundNames('send-phone-message')).toEqual([]);
    expect(tenant.providers()).toEqual([]);
    expect(stdout).toContain('Done:');
  });

  it('creates the log stream and the agents’ application as documented', async () => {
    await start();
    await box.run(['auth0']);
    expect(tenant.streams()).toMatchObject([
      {
        name: 'callerpop',
        type: 'http',
        status: 'active',
        sink: {
          httpEndpoint: `${BASE}/auth0/log-stream`,
          httpAuthorization: TEST_ENV.AUTH0_LOG_STREAM_TOKEN,
          httpContentFormat: 'JSONLINES',
          httpContentType: 'application/json',
        },
      },
    ]);
    expect(tenant.streams()[0]?.pii_config).toBeUndefined();
    expect(tenant.clients()).toMatchObject([
      {
        name: 'callerpop agents',
        app_type: 'regular_web',
        callbacks: [`${BASE}/agent/callback`],
        allowed_logout_urls: [`${BASE}/agent/login`],
        initiate_login_uri: `${BASE}/agent/login`,
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_post',
        oidc_conformant: true,
        client_metadata: { callerpop: 'agents' },
      },
    ]);
  });

  it('shows the new client secret once on stdout, and writes it nowhere else', async () => {
    await start();
    const first = await box.run(['auth0']);
    const secret = String(tenant.clients()[0]?.client_secret);
    expect(first.stdout.split(secret).length - 1).toBe(1);
    expect(first.stdout).toContain(`AUTH0_AGENT_CLIENT_SECRET=${secret}`);
    expect(first.stderr).not.toContain(secret);
    expect(box.stateText()).not.toContain(secret);
    // Nor any other secret connect set.
    for (const value of [TEST_ENV.AUTH0_WEBHOOK_SECRET, TEST_ENV.AUTH0_LOG_STREAM_TOKEN])
      expect(box.stateText()).not.toContain(value);
    const second = await box.run(['auth0']);
    expect(second.stdout).not.toContain(secret);
  });

  it('installs the chosen phone script and switches the phone provider only with --phone upe', async () => {
    await start({
      providers: [
        {
          name: 'twilio',
          configuration: { sid: 'ACother', default_from: '+15005550006', delivery_methods: ['text'] },
          credentials: { auth_token: 'x' },
        },
      ],
    });
    const classic = await box.run(['auth0', '--phone', 'classic']);
    expect(classic.code).toBe(0);
    expect(tenant.boundNames('send-phone-message')).toEqual(['callerpop-send-phone-message']);
    expect(tenant.providers()[0]?.name).toBe('twilio');
    const upe = await box.run(['auth0', '--phone', 'upe']);
    expect(upe.code).toBe(0);
    expect(upe.stdout).toContain('replaces twilio (account ACother, from +15005550006)');
    expect(upe.stdout).toContain('--undo cannot put it back');
    expect(tenant.providers()[0]).toMatchObject({
      name: 'custom',
      configuration: { delivery_methods: ['text', 'voice'] },
    });
    expect(tenant.boundNames('custom-phone-provider')).toEqual(['callerpop-custom-phone-provider']);
    // Only one phone script may run: choosing upe unbinds the classic one.
    expect(tenant.boundNames('send-phone-message')).toEqual([]);
  });
});

describe('connect auth0 on a tenant with its own Actions', () => {
  const seed: TenantSeed = {
    actions: [
      { name: 'Rule A', trigger: 'post-login' },
      { name: 'Rule B', trigger: 'post-login' },
      { name: 'Welcome mail', trigger: 'post-user-registration', version: 'v2' },
      { name: 'Token extras', trigger: 'credentials-exchange', version: 'v2' },
    ],
    bindings: {
      'post-login': ['Rule A', 'Rule B'],
      'post-user-registration': ['Welcome mail'],
      'credentials-exchange': ['Token extras'],
    },
  };

  it('keeps theirs, in their order, and puts callerpop’s after them', async () => {
    await start(seed);
    const idsBefore = tenant.bindingsOf('post-login').map((b) => b.id);
    const { code } = await box.run(['auth0', '--verify-phone']);
    expect(code).toBe(0);
    expect(tenant.boundNames('post-login')).toEqual([
      'Rule A',
      'Rule B',
      'callerpop-post-login',
      'callerpop-verify-phone',
      'callerpop-agent-roles',
    ]);
    expect(tenant.boundNames('post-user-registration')).toEqual([
      'Welcome mail',
      'callerpop-post-user-registration',
    ]);
    expect(tenant.boundNames('credentials-exchange')).toEqual(['Token extras']);
    expect(
      tenant
        .bindingsOf('post-login')
        .slice(0, 2)
        .map((b) => [b.id, b.display_name]),
    ).toEqual([
      [idsBefore[0], 'Rule A'],
      [idsBefore[1], 'Rule B'],
    ]);
    // Their Actions themselves are untouched.
    expect(tenant.actionNamed('Rule A')?.code).toBe('/* theirs */');
    expect(
      tenant.writes().filter((w) => w.path.includes('/actions/actions/') && w.method === 'PATCH'),
    ).toEqual([]);
  });

  it('leaves callerpop’s block where an operator moved it', async () => {
    await start(seed);
    await box.run(['auth0']);
    // The operator moves callerpop's Actions before Rule B by hand.
    const ids = Object.fromEntries(tenant.actions().map((a) => [a.name, a.id]));
    await fetch(`${tenant.url}/oauth/token`).catch(() => undefined);
    tenant.bindingsOf('post-login').splice(0, Infinity);
    for (const name of ['Rule A', 'callerpop-post-login', 'callerpop-agent-roles', 'Rule B'])
      tenant.bindingsOf('post-login').push({
        id: `b-${name}`,
        trigger_id: 'post-login',
        display_name: name,
        action: tenant.actions().find((a) => a.id === ids[name]) as never,
      });
    const writes = tenant.writes().length;
    await box.run(['auth0']);
    expect(tenant.writes().length).toBe(writes);
    // Adding verify-phone joins the block where it is.
    await box.run(['auth0', '--verify-phone']);
    expect(tenant.boundNames('post-login')).toEqual([
      'Rule A',
      'callerpop-post-login',
      'callerpop-verify-phone',
      'callerpop-agent-roles',
      'Rule B',
    ]);
  });
});

describe('connect auth0 again', () => {
  it('changes nothing on a second run', async () => {
    await start();
    await box.run(['auth0', '--verify-phone', '--phone', 'upe', '--disable-sms-obfuscation']);
    const writes = tenant.writes().length;
    const second = await box.run(['auth0', '--verify-phone', '--phone', 'upe', '--disable-sms-obfuscation']);
    expect(second.code).toBe(0);
    expect(tenant.writes().length).toBe(writes);
    expect(second.stdout).toContain('Nothing to change');
    expect(second.stdout).toContain('callerpop-post-login: up to date and deployed');
  });

  it('updates what changed: new code, a new secret, a stream an operator paused', async () => {
    await start();
    await box.run(['auth0']);
    const action = tenant.actionNamed('callerpop-post-login');
    if (action) action.code = '// edited in the dashboard';
    const stream = tenant.streams()[0];
    if (stream) stream.status = 'paused';
    const rotated = `whsec_${btoa('a-brand-new-webhook-secret-32-by')}`;
    const { code, stdout } = await box.run(['auth0'], { env: { AUTH0_WEBHOOK_SECRET: rotated } });
    expect(code).toBe(0);
    expect(stdout).toMatch(/update callerpop-post-login: code, secrets/);
    expect(tenant.actionNamed('callerpop-post-login')?.code).toBe(script('post-login'));
    for (const name of ['callerpop-post-login', 'callerpop-post-user-registration'])
      expect(tenant.actionNamed(name)?.secrets.find((s) => s.name === 'CALLERPOP_SECRET')?.value).toBe(
        rotated,
      );
    expect(tenant.streams()[0]?.status).toBe('active');
  });
});

describe('connect auth0 --dry-run', () => {
  it('prints the plan and changes nothing, not even the state file', async () => {
    await start({
      actions: [{ name: 'Rule A', trigger: 'post-login' }],
      bindings: { 'post-login': ['Rule A'] },
    });
    const { code, stdout } = await box.run(['auth0', '--dry-run', '--phone', 'upe']);
    expect(code).toBe(0);
    expect(tenant.writes()).toEqual([]);
    expect(box.stateText()).toBe('');
    expect(stdout).toContain('dry run: nothing is changed');
    expect(stdout).toContain('+ create callerpop-post-login (post-login v3, node22) (would be done)');
    expect(stdout).toContain(
      'post-login: Rule A → callerpop-post-login → callerpop-agent-roles (would be done)',
    );
    expect(stdout).toContain('create log stream "callerpop"');
    expect(stdout).toContain('phone provider → custom');
    expect(stdout).toMatch(/Dry run: \d+ changes planned, nothing was changed/);
  });

  it('after a run, reports that everything stays', async () => {
    await start();
    await box.run(['auth0']);
    const writes = tenant.writes().length;
    const { stdout } = await box.run(['auth0', '--dry-run']);
    expect(tenant.writes().length).toBe(writes);
    expect(stdout).toContain('= log stream "callerpop"');
    expect(stdout).toContain('Nothing to change');
  });
});
