import { SettingsClient } from 'auth0/tenants/settings';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import {
  type FakeAuth0,
  type FakeAuth0Options,
  type FakeUser,
  startFakeAuth0,
} from '../../test/support/fake-auth0.js';
import { createManagementApi } from '../auth0-api/index.js';
import { backfillSandbox, db, type Sandbox, sms } from './test-support.js';

let box: Sandbox;
let auth0: FakeAuth0 | undefined;
beforeEach(() => {
  box = backfillSandbox();
});
afterEach(async () => {
  await auth0?.close();
  auth0 = undefined;
  box.cleanup();
});

const phone = (n: number) => `+1415555${String(1000 + n).slice(-4)}`;

/** `count` database users; every third has Guardian MFA with an SMS (or, every sixth, voice) factor. */
function tenant(count: number): FakeUser[] {
  const users: FakeUser[] = [];
  for (let i = 0; i < count; i++) {
    const mfa = i % 3 === 0;
    users.push({
      profile: db(`u${i}`, mfa ? { multifactor: ['guardian'] } : {}),
      methods: mfa
        ? [
            {
              type: 'phone',
              phone_number: phone(i),
              preferred_authentication_method: i % 6 === 0 ? 'voice' : 'sms',
              confirmed: true,
            },
            { type: 'totp', confirmed: true },
          ]
        : [],
    });
  }
  return users;
}

/**
 * These tests' buckets are their own, not a documented plan's: the backfill is told Enterprise (16/s, which
 * none of them is slower than) unless the test plays a plan.
 */
async function start(options: FakeAuth0Options) {
  auth0 = await startFakeAuth0(options);
  auth0.env.AUTH0_PLAN ??= 'enterprise';
  return auth0;
}

describe('backfill from an Auth0 tenant (export job, authentication-methods)', () => {
  it('creates an export job with the fields the index needs, waits for it, downloads and imports it', async () => {
    const fake = await start({
      users: [
        {
          profile: db('ann', {
            phone_number: '+14155550101',
            phone_verified: true,
            multifactor: ['guardian'],
          }),
          methods: [
            {
              type: 'phone',
              phone_number: '+14155550111',
              preferred_authentication_method: 'sms',
              confirmed: true,
            },
          ],
        },
        { profile: sms('bob', '+442071838750') },
        { profile: db('cat', { multifactor: ['google-authenticator'] }) },
      ],
    });
    const result = await box.run(['--mfa', '--poll-interval', '20'], fake.env);
    expect(result.status).toBe('completed');
    expect(await box.links()).toEqual([
      'auth0|ann mfa_sms +14155550111 verified',
      'auth0|ann profile +14155550101 verified',
      'sms|bob passwordless +442071838750 verified',
    ]);
    const paths = fake.log.map((r) => `${r.method} ${r.path}`);
    expect(paths[0]).toBe('POST /oauth/token');
    expect(paths).toContain('POST /api/v2/jobs/users-exports');
    expect(paths.filter((p) => p.startsWith('GET /api/v2/jobs/'))).toHaveLength(2);
    expect(paths.filter((p) => p.startsWith('GET /exports/'))).toHaveLength(1);
    // Exactly the users whose multifactor names a provider with phone factors.
    expect(fake.methodCalls().map((r) => decodeURIComponent(r.path))).toEqual([
      '/api/v2/users/auth0|ann/authentication-methods',
    ]);
    expect(result.output).toContain('1 users asked, 1 API calls, 0 429s, 0 masked');
    // A second run resumes nothing and re-creates a fresh export: still idempotent.
    const again = await box.run(['--mfa', '--poll-interval', '20'], fake.env);
    expect(again.counters).toMatchObject({ linksAdded: 0, linksUpdated: 0 });
  });

  it('paces authentication-methods by the rate-limit headers: every call answered, never a 429', async () => {
    const fake = await start({ users: tenant(120), rateLimit: { limit: 5, perSecond: 20 }, latencyMs: 15 });
    const result = await box.run(
      ['--file', await exportFile(fake), '--mfa', '--concurrency', '8', '--batch-size', '25'],
      fake.env,
    );
    expect(result.status).toBe('completed');
    const calls = fake.methodCalls();
    expect(calls).toHaveLength(40);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    // From the log alone: no second ever saw more calls than the bucket's size plus one second of refill.
    for (const c of calls)
      expect(calls.filter((d) => d.at >= c.at && d.at < c.at + 1000).length).toBeLessThanOrEqual(5 + 20);
    // Concurrency adapted upward while the bucket had room.
    expect(Math.max(...calls.map((c) => c.inFlight))).toBeGreaterThan(1);
    expect(result.counters).toMatchObject({ mfaUsers: 40, apiCalls: 40, throttled: 0, linksAdded: 40 });
    const links = await box.links();
    expect(links).toContain(`auth0|u0 mfa_voice ${phone(0)} verified`);
    expect(links).toContain(`auth0|u3 mfa_sms ${phone(3)} verified`);
  });

  it('on 429 waits for Retry-After before the next call, counts it and slows down', async () => {
    // The headers advertise plenty; a hidden limit (like the free tenants' global limit) refuses anyway.
    // Retry-After is not documented for the Management API: this stand-in sends it (the next test does not).
    const fake = await start({
      users: tenant(30),
      rateLimit: { limit: 100, perSecond: 100 },
      hiddenLimit: { limit: 3, perSecond: 2 },
      readings: { retryAfter: true },
    });
    const result = await box.run(['--file', await exportFile(fake), '--mfa', '--concurrency', '1'], fake.env);
    expect(result.status).toBe('completed');
    const calls = fake.methodCalls();
    const refused = calls.filter((c) => c.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      const next = calls[calls.indexOf(r) + 1];
      expect(next?.at ?? Number.POSITIVE_INFINITY).toBeGreaterThanOrEqual(
        r.at + (r.rate?.retryAfter ?? 0) * 1000,
      );
    }
    expect(result.counters.throttled).toBe(refused.length);
    expect(result.counters.apiCalls).toBe(calls.length);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(10);
  });

  it('on 429 without Retry-After waits for the reset (or backs off), counts it and completes', async () => {
    const fake = await start({
      users: tenant(30),
      rateLimit: { limit: 100, perSecond: 100 },
      hiddenLimit: { limit: 3, perSecond: 2 },
      readings: { retryAfter: false },
    });
    const result = await box.run(['--file', await exportFile(fake), '--mfa', '--concurrency', '1'], fake.env);
    expect(result.status).toBe('completed');
    const calls = fake.methodCalls();
    const refused = calls.filter((c) => c.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    // No answer to a refused call said when to come back before its reset (if that was still ahead).
    for (const r of refused) {
      const next = calls[calls.indexOf(r) + 1];
      const reset = (r.rate?.reset ?? 0) * 1000;
      if (next && reset > r.at) expect(next.at).toBeGreaterThanOrEqual(reset);
    }
    expect(result.counters.throttled).toBe(refused.length);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(10);
  });

  it('plays a documented plan: Free (2 burst, 2/s), never a 429', async () => {
    const fake = await start({ users: tenant(24), plan: 'free', latencyMs: 5 });
    const result = await box.run(['--file', await exportFile(fake), '--mfa', '--concurrency', '4'], fake.env);
    expect(result.status).toBe('completed');
    expect(result.output).toContain('Pacing authentication-methods calls by AUTH0_PLAN=free');
    const calls = fake.methodCalls();
    expect(calls).toHaveLength(8);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    // 2 at once, then 2 per second: the last of 8 no sooner than 3 s after the first.
    expect((calls.at(-1)?.at ?? 0) - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(2900);
  });

  it('reports masked numbers once with the fix and indexes none of them; after the fix they are indexed', async () => {
    const fake = await start({ users: tenant(9), obfuscate: true });
    const file = await exportFile(fake);
    const masked = await box.run(['--file', file, '--mfa'], fake.env);
    expect(masked.status).toBe('completed');
    expect(masked.counters).toMatchObject({ masked: 3, linksAdded: 0 });
    expect(masked.output.match(/Auth0 returned MFA phone numbers masked/g)).toHaveLength(1);
    expect(masked.output).toContain('PATCH https://{AUTH0_DOMAIN}/api/v2/tenants/settings');
    expect(await box.links()).toEqual([]);

    // The fix, exactly as printed, through the real SDK (and the shared client every caller uses).
    const api = createManagementApi({
      domain: fake.domain,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      apiBaseUrl: fake.url,
      plan: 'enterprise',
      fetch: globalThis.fetch.bind(globalThis),
    });
    await new SettingsClient(api.clientOptions).update({
      flags: { disable_management_api_sms_obfuscation: true },
    });
    expect(fake.obfuscate).toBe(false);
    const fixed = await box.run(['--file', file, '--mfa'], fake.env);
    expect(fixed.counters).toMatchObject({ masked: 0, linksAdded: 3 });
  });

  it('stopped while the export job runs, resumes the same job', async () => {
    const fake = await start({ users: tenant(6), exportPolls: 4 });
    const stop = new AbortController();
    const first = box.run(['--poll-interval', '50'], fake.env, stop.signal);
    await eventually(() => (fake.log.some((r) => r.path.startsWith('/api/v2/jobs/job_')) ? true : undefined));
    stop.abort();
    expect((await first).status).toBe('interrupted');
    const second = await box.run(['--poll-interval', '20'], fake.env);
    expect(second.status).toBe('completed');
    expect(second.counters.users).toBe(6);
    expect(fake.log.filter((r) => r.path === '/api/v2/jobs/users-exports')).toHaveLength(1);
  });

  it('fails with the reason when the credentials are wrong, and leaves the index alone', async () => {
    const fake = await start({ users: tenant(3) });
    const result = await box.run(['--poll-interval', '20'], { ...fake.env, AUTH0_CLIENT_SECRET: 'wrong' });
    expect(result.status).toBe('failed');
    expect(result.output).toContain('HTTP 401');
    expect(result.output).toContain('check AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET');
    expect(await box.query('select * from accounts')).toEqual([]);
  });
});

/** Downloads the tenant's export once (as the export job would) so tests can replay it with --file. */
async function exportFile(fake: FakeAuth0): Promise<string> {
  const result = await box.run(['--poll-interval', '20', '--dry-run'], fake.env);
  expect(result.status).toBe('completed');
  const job = fake.log.find((r) => r.path.startsWith('/exports/'));
  if (!job) throw new Error('no export downloaded');
  fake.log.length = 0;
  return `${box.dir}/backfill/${job.path.slice('/exports/'.length).replace('.json.gz', '')}.ndjson.gz`;
}
