import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createApp } from '../../src/app.js';
import { createTestContext, TEST_ENV, type TestContext } from './context.js';
import {
  type ActionUser,
  DEFAULT_READINGS,
  FakeAuth0Tenant,
  loadAction,
  type PostLoginAction,
  type RedirectReadings,
} from './fake-auth0-redirect.js';
import { FakeTwilioVerify, type VerifyReadings } from './fake-twilio-verify.js';

/**
 * Everything the phone verification tests share: the real app over a real database, the loopback Twilio
 * Verify, a fake Auth0 tenant running the real Action script, and a controllable clock.
 */
export const AUTH0_DOMAIN = 'callerpop-test.eu.auth0.com';
export const SERVICE_SID = `VA${'a1b2c3d4'.repeat(4)}`;
export const ACTION_PATH = resolve(import.meta.dirname, '../../actions/verify-phone.js');

export interface VerifyHarness {
  ctx: TestContext;
  twilio: FakeTwilioVerify;
  tenant: FakeAuth0Tenant;
  action: PostLoginAction;
  clock: { now: number };
  /**
   * Gives callerpop another AUTH0_WEBHOOK_SECRET from now on, over the same database (a secret rotation step);
   * the Actions' CALLERPOP_SECRET is `tenant.secrets`.
   */
  setCallerpopSecret: (secrets: string) => void;
  close: () => Promise<void>;
}

export async function createVerifyHarness(
  options: {
    env?: Record<string, string>;
    landlines?: string[];
    readings?: RedirectReadings;
    /** How the Verify stand-in plays what Twilio's pages leave open. */
    verifyReadings?: VerifyReadings;
  } = {},
): Promise<VerifyHarness> {
  const clock = { now: Date.now() };
  const twilio = await new FakeTwilioVerify({
    accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
    serviceSid: SERVICE_SID,
    landlines: options.landlines,
    now: () => clock.now,
    readings: options.verifyReadings,
  }).start();
  // The Action calls callerpop back (phone.verified) over real HTTP: unless the test serves callerpop itself at
  // its PUBLIC_BASE_URL, the harness serves it on loopback and gives the Action that address as CALLERPOP_URL
  // (a proxy's inside address; the page keeps its public https name).
  let current: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const served = options.env?.PUBLIC_BASE_URL ? undefined : createServer((req, res) => current?.(req, res));
  if (served) await new Promise<void>((r) => served.listen(0, '127.0.0.1', r));
  const ctx = await createTestContext({
    env: {
      AUTH0_DOMAIN,
      TWILIO_VERIFY_BASE_URL: twilio.baseUrl,
      TWILIO_VERIFY_SERVICE_SID: SERVICE_SID,
      ...options.env,
    },
    deps: { now: () => clock.now },
  });
  current = (req, res) => getRequestListener(ctx.app.fetch)(req, res);
  const callerpopUrl = served
    ? `http://127.0.0.1:${(served.address() as AddressInfo).port}`
    : ctx.config.PUBLIC_BASE_URL;
  const tenant = new FakeAuth0Tenant(
    AUTH0_DOMAIN,
    { CALLERPOP_URL: callerpopUrl, CALLERPOP_SECRET: TEST_ENV.AUTH0_WEBHOOK_SECRET },
    options.readings ?? DEFAULT_READINGS,
  );
  tenant.now = () => clock.now;
  return {
    ctx,
    twilio,
    tenant,
    action: loadAction(ACTION_PATH),
    clock,
    setCallerpopSecret: (secrets) => {
      const config = { ...ctx.deps.config, AUTH0_WEBHOOK_SECRET: secrets };
      ctx.deps = { ...ctx.deps, config };
      ctx.config = config;
      ctx.app = createApp(ctx.deps);
    },
    close: async () => {
      if (served) await new Promise<void>((r) => served.close(() => r()));
      ctx.close();
      await twilio.close();
    },
  };
}

export function newUser(id: string, phone?: string, verified?: string): ActionUser {
  return {
    user_id: id,
    email: `${id.replace(/\W/g, '')}@example.com`,
    user_metadata: phone ? { phone_number: phone } : {},
    app_metadata: verified ? { callerpop_verified_phone: verified } : {},
  };
}

/** A minimal browser over `app.request`: a cookie jar, the page's Origin on posts, manual redirects. */
export class PageClient {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly ctx: TestContext,
    private readonly origin = ctx.config.PUBLIC_BASE_URL,
  ) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.ctx.app.request(new URL(url, this.origin).toString(), { ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (pair && i > 0) this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }

  get(url: string, headers: Record<string, string> = {}) {
    return this.request(url, { headers });
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** The CSRF token of the page currently shown. */
  async csrf(): Promise<string> {
    const html = await (await this.get('/verify')).text();
    const m = /name="csrf" value="([^"]+)"/.exec(html);
    if (!m?.[1]) throw new Error('no csrf field on the page');
    return m[1];
  }
}
