import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_SCOPES,
  type FakeAuth0Tenant,
  type FakeTenantOptions,
  startFakeAuth0Tenant,
} from '../../test/support/fake-auth0-tenant.js';
import { BUILD_TIMEOUT_MS } from './auth0-actions.js';
import { type ConnectSandbox, connectSandbox } from './test-support.js';

/** A missing scope, an API error, a build that fails or never ends: named, with what to do, exit 1. */

let tenant: FakeAuth0Tenant;
let box: ConnectSandbox;
afterEach(async () => {
  await tenant?.close();
  box?.close();
});

async function start(options: FakeTenantOptions = {}, env: Record<string, string> = {}) {
  tenant = await startFakeAuth0Tenant(options);
  box = connectSandbox({ ...tenant.env, ...env });
}

const without = (...scopes: string[]) => ALL_SCOPES.filter((s) => !scopes.includes(s));

describe('connect auth0 with a scope missing', () => {
  it('names the scope and what needs it, and changes nothing', async () => {
    await start({ scopes: without('create:actions', 'create:log_streams') });
    const { code, stdout } = await box.run(['auth0']);
    expect(code).toBe(1);
    expect(stdout).toContain('lacks what this run needs');
    expect(stdout).toMatch(
      /- create:actions: create and deploy callerpop’s Actions \(create Action callerpop-post-user-registration; deploy Action/,
    );
    expect(stdout).toContain('- create:log_streams: create the log stream (create the log stream)');
    expect(stdout).toContain('Nothing was changed.');
    expect(tenant.writes()).toEqual([]);
    expect(box.stateText()).toBe('');
  });

  it('lists what the other features will lack, without failing this run', async () => {
    await start({ scopes: without('read:logs', 'read:authentication_methods', 'delete:sessions') });
    const { code, stdout } = await box.run(['auth0']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      '! missing read:authentication_methods — backfill: read MFA phone numbers (backfill --mfa)',
    );
    expect(stdout).toContain(
      '! missing read:logs — log catch-up: read what the log stream missed (GET /logs)',
    );
    expect(stdout).toContain('! missing delete:sessions — account actions: revoke sessions (Enterprise)');
  });

  it('needs no scope it has no use for: an application made by hand needs no create:clients', async () => {
    await start(
      {
        scopes: without('create:clients', 'delete:clients'),
        seed: { clients: [{ client_id: 'own-agents', name: 'Agents', app_type: 'regular_web' }] },
      },
      { AUTH0_AGENT_CLIENT_ID: 'own-agents' },
    );
    const { code, stdout } = await box.run(['auth0']);
    expect(code).toBe(0);
    expect(stdout).toContain('! missing create:clients — connect auth0: create the agents’ application');
  });

  it('stops before writing when a read scope is missing', async () => {
    await start({ scopes: without('read:log_streams') });
    const { code, stdout, stderr } = await box.run(['auth0']);
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`).toContain('read:log_streams');
    expect(tenant.writes()).toEqual([]);
  });
});

describe('connect auth0 when Auth0 refuses a step', () => {
  it('names the step, Auth0’s message and what to do; a second run finishes the job', async () => {
    await start();
    tenant.failNext(
      'POST',
      /^\/actions\/actions\/[^/]+\/deploy$/,
      400,
      'Invalid code: Unexpected token (12:4)',
    );
    const failed = await box.run(['auth0']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      'connect auth0 failed at: deploy Action callerpop-post-user-registration',
    );
    expect(failed.stderr).toContain('Auth0 answered HTTP 400: Invalid code: Unexpected token (12:4)');
    expect(failed.stderr).toContain('What to do: fix what Auth0 names above');
    const again = await box.run(['auth0']);
    expect(again.code).toBe(0);
    expect(tenant.actions().every((a) => a.all_changes_deployed)).toBe(true);
    expect(tenant.boundNames('post-login')).toEqual(['callerpop-post-login', 'callerpop-agent-roles']);
  });

  it('says which credentials to check when the token is refused', async () => {
    await start({}, { AUTH0_CLIENT_SECRET: 'not-the-secret-of-this-app' });
    const { code, stderr } = await box.run(['auth0']);
    expect(code).toBe(1);
    expect(stderr).toContain('failed at: read the granted scopes');
    expect(stderr).toContain('HTTP 401');
    expect(stderr).toContain('check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET');
  });

  it('reports a failed build with where to read the error', async () => {
    await start({ readings: { buildPolls: 'failed' } });
    const { code, stderr } = await box.run(['auth0']);
    expect(code).toBe(1);
    expect(stderr).toContain('failed at: build Action callerpop-post-user-registration');
    expect(stderr).toContain('Actions > Library');
  });

  it('gives up on a build after two minutes of the injected clock, without waiting them', async () => {
    await start({ readings: { buildPolls: 100_000 } });
    const started = box.clock.now;
    const { code, stderr } = await box.run(['auth0']);
    expect(code).toBe(1);
    expect(stderr).toContain(`still "building" after ${BUILD_TIMEOUT_MS / 1000} s`);
    expect(stderr).toContain('run the same command again');
    expect(box.clock.now - started).toBeGreaterThanOrEqual(BUILD_TIMEOUT_MS);
  });

  it('refuses to add a second custom-phone-provider Action (Auth0 allows one) before any write', async () => {
    await start({
      seed: { actions: [{ name: 'Custom Phone Provider', trigger: 'custom-phone-provider', version: 'v1' }] },
    });
    const { code, stderr } = await box.run(['auth0', '--phone', 'upe']);
    expect(code).toBe(1);
    expect(stderr).toContain('failed at: switch the phone provider');
    expect(stderr).toContain('"Custom Phone Provider"');
    expect(stderr).toContain('Auth0 allows one');
    expect(tenant.writes()).toEqual([]);
  });
});
