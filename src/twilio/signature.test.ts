import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, TEST_ENV, type TestContext } from '../../test/support/context.js';
import {
  formBody,
  signForm,
  signJson,
  smsParams,
  twilioFormRequest,
} from '../../test/support/twilio-sign.js';

const BASE = TEST_ENV.PUBLIC_BASE_URL;

async function countInteractions(ctx: TestContext): Promise<number> {
  const rs = await ctx.deps.db.$client.execute('select count(*) as n from interactions');
  return Number(rs.rows[0]?.n);
}

describe('Twilio signature middleware', () => {
  let ctx: TestContext;
  afterEach(() => ctx?.close());

  it('accepts a request signed with the twilio package over PUBLIC_BASE_URL + path', async () => {
    ctx = await createTestContext();
    const res = await ctx.app.request(twilioFormRequest('/twilio/sms', smsParams('+14155550100', 'hello')));
    expect(res.status).toBe(200);
  });

  it('signs every received parameter, repeated names included', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'two photos', {
      NumMedia: '2',
      MediaUrl: ['https://api.twilio.com/m/ME1', 'https://api.twilio.com/m/ME0'],
    });
    expect((await ctx.app.request(twilioFormRequest('/twilio/sms', params))).status).toBe(200);

    // Signed over one MediaUrl only: the second value received must make it fail.
    const signedWithOne = signForm(`${BASE}/twilio/sms`, {
      ...params,
      MediaUrl: 'https://api.twilio.com/m/ME1',
    });
    const res = await ctx.app.request(
      twilioFormRequest('/twilio/sms', params, { headers: { 'x-twilio-signature': signedWithOne } }),
    );
    expect(res.status).toBe(403);
  });

  it('handles Unicode and empty values exactly as signed', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'Grüße 👋 — ça va? 你好 &=+%', { FromCity: '', ToZip: '' });
    expect((await ctx.app.request(twilioFormRequest('/twilio/sms', params))).status).toBe(200);
  });

  it('includes the query string in the signed URL', async () => {
    ctx = await createTestContext();
    const params = smsParams('020 7946 0123', 'from London');
    expect((await ctx.app.request(twilioFormRequest('/twilio/sms?region=GB', params))).status).toBe(200);

    const signedWithoutQuery = signForm(`${BASE}/twilio/sms`, params);
    const res = await ctx.app.request(
      twilioFormRequest('/twilio/sms?region=GB', params, {
        headers: { 'x-twilio-signature': signedWithoutQuery },
      }),
    );
    expect(res.status).toBe(403);
  });

  it('rejects a signature made with another auth token', async () => {
    ctx = await createTestContext();
    const req = twilioFormRequest('/twilio/sms', smsParams('+14155550100', 'hi'), {
      authToken: 'someone-elses-token-0123456789',
    });
    expect((await ctx.app.request(req)).status).toBe(403);
  });

  it('rejects a tampered parameter, with no detail and nothing written', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'original');
    const signature = signForm(`${BASE}/twilio/sms`, params);
    const res = await ctx.app.request('/twilio/sms', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: formBody({ ...params, From: '+14155550101' }),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'forbidden', message: 'Forbidden' });
    expect(await countInteractions(ctx)).toBe(0);
  });

  it('rejects a missing signature header', async () => {
    ctx = await createTestContext();
    const req = twilioFormRequest('/twilio/voice', smsParams('+14155550100', 'hi'), {
      headers: { 'x-twilio-signature': null },
    });
    expect((await ctx.app.request(req)).status).toBe(403);
  });

  it('rejects a correctly signed request from another Twilio account', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'hi', { AccountSid: `AC${'f'.repeat(32)}` });
    expect((await ctx.app.request(twilioFormRequest('/twilio/sms', params))).status).toBe(403);
  });

  it('accepts the URL with the default port added, as Twilio libraries do', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'hi');
    const req = twilioFormRequest('/twilio/sms', params, { baseUrl: 'https://callerpop.test:443' });
    expect((await ctx.app.request(req)).status).toBe(200);
  });

  it('accepts the URL with the default port removed when PUBLIC_BASE_URL has one', async () => {
    ctx = await createTestContext({ env: { PUBLIC_BASE_URL: 'https://callerpop.test:443' } });
    const params = smsParams('+14155550100', 'hi');
    const req = twilioFormRequest('/twilio/sms', params, { baseUrl: 'https://callerpop.test' });
    expect((await ctx.app.request(req)).status).toBe(200);
    const wrongPort = twilioFormRequest('/twilio/sms', params, { baseUrl: 'https://callerpop.test:8443' });
    expect((await ctx.app.request(wrongPort)).status).toBe(403);
  });

  it('verifies the JSON bodySHA256 form (body hash in the query, URL signed)', async () => {
    ctx = await createTestContext();
    const body = JSON.stringify({ AccountSid: TEST_ENV.TWILIO_ACCOUNT_SID, CallSid: 'CA1', Digits: '1' });
    const { url, signature } = signJson(`${BASE}/twilio/voice/status`, body);
    const path = url.slice(BASE.length);
    const send = (payload: string, sig = signature) =>
      ctx.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-twilio-signature': sig },
        body: payload,
      });
    // Verified, then refused by the route because the status callback is a form: 415, not 403.
    expect((await send(body)).status).toBe(415);
    expect((await send(body.replace('"1"', '"2"'))).status).toBe(403);
    expect((await send(body, 'AAAA')).status).toBe(403);
  });

  it('rejects a JSON body without bodySHA256 in the URL', async () => {
    ctx = await createTestContext();
    const body = JSON.stringify({ AccountSid: TEST_ENV.TWILIO_ACCOUNT_SID });
    const res = await ctx.app.request('/twilio/voice/status', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-signature': signForm(`${BASE}/twilio/voice/status`, {}),
      },
      body,
    });
    expect(res.status).toBe(403);
  });

  it('ignores forwarded host headers: only PUBLIC_BASE_URL is signed', async () => {
    ctx = await createTestContext();
    const params = smsParams('+14155550100', 'hi');
    const req = twilioFormRequest('/twilio/sms', params, {
      baseUrl: 'https://attacker.example',
      headers: { 'x-forwarded-host': 'attacker.example', host: 'attacker.example' },
    });
    expect((await ctx.app.request(req)).status).toBe(403);
  });

  it('guards the caller-verification steps mounted under /twilio/voice/verify', async () => {
    ctx = await createTestContext();
    const res = await ctx.app.request('/twilio/voice/verify/start?interaction=x', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'From=%2B14155550100',
    });
    expect(res.status).toBe(403);
  });

  describe('over real HTTP (@hono/node-server, as npm start serves it)', () => {
    /** Raw HTTP/1.1 POST, so the test controls Content-Length and Transfer-Encoding itself. */
    async function rawPost(
      body: string,
      headers: Record<string, string>,
      chunked: boolean,
    ): Promise<{ status: number; text: string }> {
      const server = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const { port } = server.address() as AddressInfo;
      try {
        return await new Promise((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/twilio/sms',
              headers: chunked ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                text += chunk;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            },
          );
          req.on('error', reject);
          if (chunked) for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
          else req.write(body);
          req.end();
        });
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }

    const signedHeaders = (params: Record<string, string | string[]>) => ({
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signForm(`${BASE}/twilio/sms`, params),
    });

    it('verifies a signed webhook sent with a Content-Length, and with chunked encoding', async () => {
      ctx = await createTestContext();
      for (const chunked of [false, true]) {
        const params = smsParams('+14155550100', 'Grüße 👋 over the wire');
        const res = await rawPost(formBody(params), signedHeaders(params), chunked);
        expect(res.status).toBe(200);
        expect(res.text).toContain('<Response/>');
      }
    });

    it('413 for a declared or streamed body over 64 KiB, nothing written', async () => {
      ctx = await createTestContext();
      for (const chunked of [false, true]) {
        const params = smsParams('+14155550100', 'x'.repeat(70 * 1024));
        const res = await rawPost(formBody(params), signedHeaders(params), chunked);
        expect(res.status).toBe(413);
      }
      expect(await countInteractions(ctx)).toBe(0);
    });

    it('rejects a tampered body sent with a Content-Length', async () => {
      ctx = await createTestContext();
      const params = smsParams('+14155550100', 'hello');
      const res = await rawPost(formBody({ ...params, Body: 'hellO' }), signedHeaders(params), false);
      expect(res.status).toBe(403);
    });
  });
});
