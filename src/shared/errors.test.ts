import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../deps.js';
import { badRequest, handleError } from './errors.js';
import { createMemoryLogger, describeError } from './logger.js';

function appThrowing(err: Error) {
  const logger = createMemoryLogger();
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('requestId', 'req-1');
    c.set('logger', logger);
    await next();
  });
  app.onError(handleError);
  app.get('/', () => {
    throw err;
  });
  return { app, logger };
}

describe('the one error shape', () => {
  it('keeps the status, code and message of a known error', async () => {
    const { app } = appThrowing(badRequest('phone is required'));
    const res = await app.request('/');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: 'bad_request', message: 'phone is required', requestId: 'req-1' },
    });
  });

  it('answers an unexpected error with a bare 500 and logs it with phone numbers masked', async () => {
    const { app, logger } = appThrowing(
      new Error('Failed query: select * from phone_links where e164 = ? params: +14155550100'),
    );
    const res = await app.request('/');
    expect(res.status).toBe(500);
    const body = JSON.stringify(await res.json());
    expect(body).not.toContain('phone_links');
    expect(body).toContain('"code":"internal"');
    const logged = JSON.stringify(logger.lines);
    expect(logged).toContain('0100');
    expect(logged).not.toContain('4155550100');
  });

  it('masks digits in a wrapped cause too', () => {
    const err = new Error('outer', { cause: new Error('UNIQUE failed for 447400123456') });
    expect(describeError(err)).not.toContain('447400123456');
    expect(describeError(err)).toContain('3456');
  });
});
