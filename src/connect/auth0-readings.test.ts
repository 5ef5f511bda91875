import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import {
  DEFAULT_TENANT_READINGS,
  type FakeAuth0Tenant,
  startFakeAuth0Tenant,
  type TenantReadings,
} from '../../test/support/fake-auth0-tenant.js';
import { type ConnectSandbox, connectSandbox } from './test-support.js';

/**
 * Where Auth0's pages are silent (TenantReadings in fake-auth0-tenant.ts), connect is run under each reading:
 * a fresh run and a rerun must leave the same tenant, the rerun writing nothing.
 */

const OTHERS: Partial<TenantReadings> = {
  token: 'opaque',
  buildPolls: 0,
  deployPolls: 0,
  omittedSecrets: 'dropped',
  streamAuthorization: 'omitted',
  customPhoneBinding: 'entity-bound',
  flagsPatch: 'replace',
  twilioWithoutCredentials: 'accepted',
};
const variants: [string, Partial<TenantReadings>][] = [
  ['the documented defaults', {}],
  ...Object.entries(OTHERS).map(([key, value]): [string, Partial<TenantReadings>] => [
    `${key}: ${String(value)}`,
    { [key]: value },
  ]),
  ['slow builds and deploys', { buildPolls: 7, deployPolls: 4 }],
  ['every other reading at once', OTHERS],
];

let tenant: FakeAuth0Tenant;
let box: ConnectSandbox;
afterEach(async () => {
  await tenant?.close();
  box?.close();
});

const ARGS = ['auth0', '--verify-phone', '--phone', 'upe', '--disable-sms-obfuscation'];

describe.each(variants)('connect auth0 under %s', (_name, readings) => {
  it('connects, then a rerun writes nothing', async () => {
    tenant = await startFakeAuth0Tenant({
      readings,
      seed: { flags: { enable_client_connections: true, enable_pipeline2: false } },
    });
    box = connectSandbox(tenant.env);
    const first = await box.run(ARGS);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const writes = tenant.writes().length;
    const second = await box.run(ARGS);
    expect(second.code).toBe(0);
    expect(tenant.writes().length).toBe(writes);

    for (const action of tenant.actions()) {
      expect(action.all_changes_deployed).toBe(true);
      const names = action.secrets.map((s) => s.name).sort();
      expect(names).toEqual(
        action.name === 'callerpop-agent-roles'
          ? ['AGENT_CLIENT_ID', 'AGENT_ROLES_CLAIM']
          : ['CALLERPOP_SECRET', 'CALLERPOP_URL'],
      );
    }
    expect(tenant.boundNames('post-login')).toEqual([
      'callerpop-post-login',
      'callerpop-verify-phone',
      'callerpop-agent-roles',
    ]);
    const entityBound =
      (readings.customPhoneBinding ?? DEFAULT_TENANT_READINGS.customPhoneBinding) === 'entity-bound';
    expect(tenant.boundNames('custom-phone-provider')).toEqual(
      entityBound ? [] : ['callerpop-custom-phone-provider'],
    );
    expect(tenant.providers()).toMatchObject([{ name: 'custom' }]);
    expect(tenant.streams()[0]?.sink).toMatchObject({ httpAuthorization: TEST_ENV.AUTH0_LOG_STREAM_TOKEN });
    // Merged or replaced, the tenant's other flags survive.
    expect(tenant.flags()).toEqual({
      enable_client_connections: true,
      enable_pipeline2: false,
      disable_management_api_sms_obfuscation: true,
    });
    expect(first.stdout).toContain('every scope callerpop uses is granted');
  });
});

describe('what connect cannot compare without its record', () => {
  it('sets again what Auth0 never returns, and says why', async () => {
    tenant = await startFakeAuth0Tenant({ readings: { streamAuthorization: 'omitted' } });
    box = connectSandbox(tenant.env);
    await box.run(['auth0']);
    const elsewhere = connectSandbox(tenant.env);
    try {
      const { code, stdout } = await elsewhere.run(['auth0', '--dry-run']);
      expect(code).toBe(0);
      expect(stdout).toContain(
        'secrets (Auth0 never returns their values, and connect has no record of setting these)',
      );
      expect(stdout).toContain(
        'Authorization (Auth0 does not return it, and connect has no record of setting this one)',
      );
    } finally {
      elsewhere.close();
    }
  });
});
