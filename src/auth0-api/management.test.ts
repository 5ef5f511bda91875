import { LogsClient } from 'auth0/logs';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import { type FakeAuth0, type FakeAuth0Options, startFakeAuth0 } from '../../test/support/fake-auth0.js';
import { PLAN_PRESETS, type PresetName } from '../../test/support/fake-auth0-buckets.js';
import { ConfigError, parseConfig } from '../config.js';
import { createManagementApi, httpStatusOf, type ManagementApi, managementApiFrom } from './management.js';
import { bucketsFor } from './rate-limits.js';
import { createTokenSource } from './token.js';

/**
 * The shared Management API client (src/auth0-api) driving the loopback stand-in with the real `auth0` SDK
 * per-resource clients over real HTTP: the token, the base URL, and GET /api/v2/logs as documented.
 */

let fake: FakeAuth0 | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function client(options: FakeAuth0Options = {}): Promise<{ fake: FakeAuth0; api: ManagementApi }> {
  fake = await startFakeAuth0(options);
  const api = createManagementApi({
    domain: fake.domain,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    apiBaseUrl: fake.url,
    plan: 'enterprise',
    fetch: globalThis.fetch.bind(globalThis),
  });
  return { fake, api };
}

const log = (id: string, date: string) => ({ log_id: id, type: 's', date });

describe('the Management API client', () => {
  it('gets one client-credentials token for every caller, and a new one once Auth0 refuses it', async () => {
    const { fake, api } = await client({ logs: [log('1001', '2026-01-01T00:00:00Z')] });
    const logs = new LogsClient(api.clientOptions);
    await Promise.all([logs.list(), logs.list(), logs.list({}, { queryParams: { from: '1000', take: 1 } })]);
    expect(fake.tokenCalls()).toHaveLength(1);
    // Every request went to AUTH0_API_BASE_URL, the audience still https://{domain}/api/v2/ (the stand-in checks).
    expect(fake.log.every((r) => r.status === 200)).toBe(true);

    fake.revokeTokens();
    const refused = await logs.list().catch((e: unknown) => e);
    expect(httpStatusOf(refused)).toBe(401);
    await logs.list();
    expect(fake.tokenCalls()).toHaveLength(2);
  });

  it('keeps a token until shortly before it expires', async () => {
    let now = 0;
    let issued = 0;
    const tokens = createTokenSource({
      baseUrl: 'https://tenant.test',
      domain: 'tenant.test',
      clientId: 'id',
      clientSecret: 'secret',
      now: () => now,
      fetch: async () =>
        Response.json({ access_token: `t${++issued}`, token_type: 'Bearer', expires_in: 600 }),
    });
    expect(await tokens.get()).toBe('t1');
    now = 539_000;
    expect(await tokens.get()).toBe('t1');
    // 600 s lifetime: renewed a minute before it ends.
    now = 540_000;
    expect(await tokens.get()).toBe('t2');
  });

  it('says why a token request failed, as the SDK says why a call failed', async () => {
    const { fake } = await client();
    const api = createManagementApi({
      domain: fake.domain,
      clientId: fake.clientId,
      clientSecret: 'wrong',
      apiBaseUrl: fake.url,
      plan: 'free',
      fetch: globalThis.fetch.bind(globalThis),
    });
    const error = await new LogsClient(api.clientOptions).list().catch((e: unknown) => e);
    expect(httpStatusOf(error)).toBe(401);
    expect((error as Error).message).toContain('HTTP 401 Unauthorized');
  });
});

describe('GET /api/v2/logs on the stand-in, through the SDK', () => {
  it('pages from a checkpoint as documented: by log_id, take 50 by default and 100 at most, [] at the end', async () => {
    // Dates out of order: "ordered by the `log_id`, rather than log generation time".
    const ids = Array.from({ length: 120 }, (_, i) => String(1_000_000 + i));
    const { fake, api } = await client({
      logs: ids.map((id, i) => log(id, new Date(Date.UTC(2026, 0, 1, 0, 0, 120 - i)).toISOString())),
    });
    const logs = new LogsClient(api.clientOptions);
    const read = async (queryParams: Record<string, unknown>) => {
      const page = await logs.list({}, { queryParams });
      return {
        body: page.response as unknown as { log_id: string }[],
        link: page.rawResponse.headers.get('link'),
      };
    };
    const first = await read({ from: ids[9] });
    expect(first.body.map((l) => l.log_id)).toEqual(ids.slice(10, 60));
    expect(first.link).toBe(`<${fake.url}/api/v2/logs?from=${ids[59]}&take=50>; rel="next"`);
    expect((await read({ from: ids[9], take: 100 })).body).toHaveLength(100);
    const last = await read({ from: ids[119], take: 100 });
    expect(last.body).toEqual([]);
    expect(last.link).toBe(`<${fake.url}/api/v2/logs?from=${ids[119]}&take=100>; rel="next"`);
    const tooMany = await logs
      .list({}, { queryParams: { from: ids[0], take: 101 } })
      .catch((e: unknown) => e);
    expect(httpStatusOf(tooMany)).toBe(400);
    // By search criteria (no `from`): the SDK's own paging, newest first by date.
    const newest = await logs.list({ page: 0, per_page: 1, sort: 'date:-1' });
    expect(newest.data.map((l) => l.log_id)).toEqual([ids[0]]);
  });
});

describe('the documented plans', () => {
  it('are the same figures in the client and in the stand-in (both cite the pages)', () => {
    const routes = [
      ['GET', '/users'],
      ['GET', '/users/auth0%7C1/authentication-methods'],
      ['GET', '/logs'],
      ['POST', '/jobs/users-exports'],
      ['GET', '/jobs/job_1'],
    ] as const;
    for (const plan of Object.keys(PLAN_PRESETS) as PresetName[]) {
      const preset = PLAN_PRESETS[plan] as (typeof PLAN_PRESETS)[PresetName] & {
        global?: { burst: number; sustained: number; per: string };
        endpoint?: (
          m: string,
          p: string,
        ) => { spec: { burst: number; sustained: number; per: string } } | undefined;
      };
      for (const [method, path] of routes) {
        const client = bucketsFor(plan, method, path).map(({ burst, sustained, per }) => ({
          burst,
          sustained,
          per,
        }));
        const stand = [preset.global, preset.endpoint?.(method, path)?.spec].filter((b) => b !== undefined);
        expect(client, `${plan} ${method} ${path}`).toEqual(stand);
      }
    }
  });
});

describe('its configuration', () => {
  it('paces as Free unless AUTH0_PLAN names a documented plan, and exists only with credentials', () => {
    const config = parseConfig({ ...TEST_ENV });
    expect(config).toMatchObject({ AUTH0_PLAN: 'free', LOG_CATCH_UP_MINUTES: 10, LOG_CATCH_UP_PAGES: 20 });
    expect(managementApiFrom(config, fetch)).toBeUndefined();
    const paid = parseConfig({
      ...TEST_ENV,
      AUTH0_PLAN: 'professional',
      AUTH0_DOMAIN: 'acme.us.auth0.com',
      AUTH0_CLIENT_ID: 'id',
      AUTH0_CLIENT_SECRET: 'secret',
    });
    expect(managementApiFrom(paid, fetch)?.plan).toBe('professional');
    expect(() => parseConfig({ ...TEST_ENV, AUTH0_PLAN: 'gold' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...TEST_ENV, LOG_CATCH_UP_PAGES: '0' })).toThrow(/LOG_CATCH_UP_PAGES/);
  });
});
