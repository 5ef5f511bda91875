import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import {
  type FakeAuth0Tenant,
  startFakeAuth0Tenant,
  type TenantReadings,
  type TenantSeed,
} from '../../test/support/fake-auth0-tenant.js';
import { type ConnectSandbox, connectSandbox } from './test-support.js';

/** `connect auth0 --undo`: back to the start, minus what it says it cannot restore. */

let tenant: FakeAuth0Tenant;
let box: ConnectSandbox;
afterEach(async () => {
  await tenant?.close();
  box?.close();
});

const theirs: TenantSeed = {
  actions: [
    { name: 'Rule A', trigger: 'post-login' },
    { name: 'Rule B', trigger: 'post-login' },
    { name: 'Welcome mail', trigger: 'post-user-registration', version: 'v2' },
  ],
  bindings: { 'post-login': ['Rule A', 'Rule B'], 'post-user-registration': ['Welcome mail'] },
  logStreams: [{ name: 'SIEM', type: 'http', sink: { httpEndpoint: 'https://siem.acme.example/in' } }],
  flags: { enable_client_connections: true },
};

const twilioProvider = (sid: string) => ({
  name: 'twilio',
  disabled: false,
  configuration: { sid, default_from: '+15005550006', delivery_methods: ['text', 'voice'] },
  credentials: { auth_token: 'the-tenant-twilio-token' },
});

async function start(
  seed: TenantSeed,
  readings: Partial<TenantReadings> = {},
  env: Record<string, string> = {},
) {
  tenant = await startFakeAuth0Tenant({ seed, readings });
  box = connectSandbox({ ...tenant.env, ...env });
}

const FULL = ['auth0', '--verify-phone', '--phone', 'upe', '--disable-sms-obfuscation'];

describe('connect auth0 --undo', () => {
  it('takes the tenant back to where it started', async () => {
    await start({ ...theirs, providers: [twilioProvider(TEST_ENV.TWILIO_ACCOUNT_SID)] });
    const streamsBefore = structuredClone(tenant.streams());
    expect((await box.run(FULL)).code).toBe(0);
    const undo = await box.run(['auth0', '--undo']);
    expect(undo.stderr).toBe('');
    expect(undo.code).toBe(0);
    expect(tenant.actions().map((a) => a.name)).toEqual(['Rule A', 'Rule B', 'Welcome mail']);
    expect(tenant.boundNames('post-login')).toEqual(['Rule A', 'Rule B']);
    expect(tenant.boundNames('post-user-registration')).toEqual(['Welcome mail']);
    expect(tenant.boundNames('custom-phone-provider')).toEqual([]);
    expect(tenant.streams()).toEqual(streamsBefore);
    expect(tenant.clients()).toEqual([]);
    // The provider was on callerpop's own Twilio account: its token is callerpop's, so it is whole again.
    expect(tenant.providers()).toMatchObject([
      {
        ...twilioProvider(TEST_ENV.TWILIO_ACCOUNT_SID),
        credentials: { auth_token: TEST_ENV.TWILIO_AUTH_TOKEN },
      },
    ]);
    // The flag was absent; Auth0 documents no way to unset one: off is what absent meant.
    expect(tenant.flags()).toEqual({
      enable_client_connections: true,
      disable_management_api_sms_obfuscation: false,
    });
    expect(undo.stdout).not.toContain('Not restored');
    expect(JSON.parse(box.stateText()).auth0).toEqual({});
    // A second undo finds nothing of callerpop's.
    const writes = tenant.writes().length;
    const again = await box.run(['auth0', '--undo']);
    expect(again.code).toBe(0);
    expect(tenant.writes().length).toBe(writes);
  });

  it.each(['accepted', 'refused'] as const)(
    'says it cannot restore another account’s Twilio provider token (a PATCH without it %s)',
    async (reading) => {
      await start(
        { providers: [twilioProvider('ACfeedfacefeedfacefeedfacefeedface')] },
        { twilioWithoutCredentials: reading },
      );
      await box.run(['auth0', '--phone', 'upe']);
      const undo = await box.run(['auth0', '--undo']);
      expect(undo.code).toBe(0);
      expect(undo.stdout).toContain('Not restored (do it by hand):');
      if (reading === 'accepted') {
        expect(tenant.providers()).toMatchObject([
          { name: 'twilio', configuration: { sid: 'ACfeedfacefeedfacefeedfacefeedface' } },
        ]);
        expect(undo.stdout).toContain('auth token (Auth0 never returns it)');
      } else {
        // No provider is better than a custom one whose Action is gone.
        expect(tenant.providers()).toEqual([]);
        expect(undo.stdout).toContain('credentials.auth_token is required');
      }
      expect(tenant.actions()).toEqual([]);
    },
  );

  it('without a record (another machine ran connect) removes callerpop’s and says what it cannot know', async () => {
    await start({ providers: [twilioProvider('ACfeedfacefeedfacefeedfacefeedface')] });
    await box.run(['auth0', '--phone', 'upe', '--disable-sms-obfuscation']);
    const elsewhere = connectSandbox(tenant.env);
    try {
      const undo = await elsewhere.run(['auth0', '--undo']);
      expect(undo.code).toBe(0);
      expect(tenant.actions()).toEqual([]);
      expect(tenant.streams()).toEqual([]);
      expect(tenant.clients()).toEqual([]);
      expect(tenant.providers()).toEqual([]);
      expect(undo.stdout).toContain('the phone provider before connect (not recorded on this machine)');
      // Not recorded as changed by connect here: left on.
      expect(tenant.flags().disable_management_api_sms_obfuscation).toBe(true);
    } finally {
      elsewhere.close();
    }
  });

  it('--dry-run --undo prints what it would remove and removes nothing', async () => {
    await start(theirs);
    await box.run(['auth0']);
    const writes = tenant.writes().length;
    const dry = await box.run(['auth0', '--undo', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(tenant.writes().length).toBe(writes);
    expect(dry.stdout).toContain('- delete callerpop-post-login (would be done)');
    expect(dry.stdout).toContain('- post-login: Rule A → Rule B (would be done)');
    expect(tenant.actionNamed('callerpop-post-login')).toBeDefined();
  });

  it('takes out of an application it did not create only what it added', async () => {
    const own = {
      client_id: 'agents-made-by-hand',
      name: 'Helpdesk console',
      app_type: 'regular_web',
      callbacks: ['https://old.acme.example/cb'],
      allowed_logout_urls: [],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      oidc_conformant: false,
    };
    await start({ clients: [own] }, {}, { AUTH0_AGENT_CLIENT_ID: 'agents-made-by-hand' });
    await box.run(['auth0']);
    expect(tenant.clients()).toMatchObject([
      {
        callbacks: ['https://old.acme.example/cb', 'https://pop.acme.example/agent/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        // What the console sends (src/console/oidc.ts: ClientSecretPost).
        token_endpoint_auth_method: 'client_secret_post',
        oidc_conformant: true,
      },
    ]);
    expect(
      tenant.actionNamed('callerpop-agent-roles')?.secrets.find((s) => s.name === 'AGENT_CLIENT_ID')?.value,
    ).toBe('agents-made-by-hand');
    const undo = await box.run(['auth0', '--undo']);
    expect(tenant.clients()).toEqual([own]);
    expect(undo.stdout).not.toContain('Not restored');
  });
});
