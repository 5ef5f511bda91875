import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('the Worker in workerd', () => {
  it('reaches the libSQL server over HTTP', async () => {
    const res = await exports.default.fetch('https://callerpop.test/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, database: 'ok' });
  });
});
