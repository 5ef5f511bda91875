import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../test/support/context.js';

describe('GET /healthz', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('reports the database as reachable', async () => {
    ctx = await createTestContext();
    const res = await ctx.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: 'ok' });
  });

  it('reports 503 once the database is gone', async () => {
    ctx = await createTestContext();
    ctx.deps.db.$client.close();
    const res = await ctx.app.request('/healthz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, database: 'unreachable' });
  });

  it('answers unknown paths with the one error shape', async () => {
    ctx = await createTestContext();
    const res = await ctx.app.request('/nope');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.requestId).toBeTruthy();
  });
});
