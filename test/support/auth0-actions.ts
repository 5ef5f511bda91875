/**
 * Runs the Action scripts in `actions/` as Auth0 would: the CommonJS module loaded by Node, its exported
 * handler called with `event` and `api` objects shaped like Auth0's documented event objects, its secrets
 * pointing at the real app served on loopback.
 *
 *   const served = await serveApp(f.ctx.app);
 *   const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
 *   await onExecutePostLogin(postLoginEvent(served.url, { user: { … } }), postLoginApi().api);
 */

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Auth0Fixture, createAuth0Fixture } from './auth0-context.js';
import { TEST_ENV } from './context.js';

const require = createRequire(import.meta.url);

interface FetchApp {
  fetch: (request: Request) => Response | Promise<Response>;
}

export interface ServedApp {
  url: string;
  close: () => Promise<void>;
}

export async function serveApp(app: FetchApp): Promise<ServedApp> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** An Auth0 fixture (createAuth0Fixture) with its app served on loopback, for the Actions to call. */
export async function serveAuth0Fixture(
  options?: Parameters<typeof createAuth0Fixture>[0],
): Promise<{ f: Auth0Fixture; served: ServedApp }> {
  const f = await createAuth0Fixture(options);
  return { f, served: await serveApp(f.ctx.app) };
}

/** Stops what serveAuth0Fixture started: the loopback server first, then the fixture. */
export async function closeAuth0Fixture(f: Auth0Fixture, served: ServedApp): Promise<void> {
  await served.close();
  await f.close();
}

type Handler = (event: unknown, api?: unknown) => Promise<void>;
export interface PostLoginModule {
  onExecutePostLogin: Handler;
}
export interface PostUserRegistrationModule {
  onExecutePostUserRegistration: Handler;
}
export interface SendPhoneMessageModule {
  onExecuteSendPhoneMessage: Handler;
}
export interface CustomPhoneProviderModule {
  onExecuteCustomPhoneProvider: Handler;
}

/** A fresh copy of the script's module (no state shared between tests). */
export function loadAction<T>(name: string): T {
  const path = require.resolve(`../../actions/${name}.js`);
  delete require.cache[path];
  return require(path) as T;
}

export const secrets = (url: string, secret: string = TEST_ENV.AUTH0_WEBHOOK_SECRET) => ({
  CALLERPOP_URL: url,
  CALLERPOP_SECRET: secret,
});

const tenant = { id: 'acme-prod' };
const client = { client_id: 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww', name: 'Acme Portal', metadata: {} };
const request = {
  ip: '203.0.113.7',
  hostname: 'acme.eu.auth0.com',
  language: 'en-US,en;q=0.9',
  method: 'POST',
  user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
  geoip: { countryCode: 'US', countryCode3: 'USA', countryName: 'United States', cityName: 'San Francisco' },
};
const databaseConnection = {
  id: 'con_fpe5kj482KO1eOzh',
  name: 'Username-Password-Authentication',
  strategy: 'auth0',
  metadata: {},
};

/** event.user as Auth0 shapes it (a database user unless overridden). */
export function auth0User(overrides: Record<string, unknown> = {}) {
  const userId = String(overrides.user_id ?? 'auth0|alice');
  const [provider, id] = userId.split('|');
  return {
    user_id: userId,
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    nickname: 'alice',
    picture: 'https://s.gravatar.com/avatar/a.png',
    created_at: '2026-11-01T09:00:00.000Z',
    updated_at: '2026-11-20T09:00:00.000Z',
    identities: [{ provider, user_id: id, connection: databaseConnection.name, isSocial: false }],
    app_metadata: {},
    user_metadata: {},
    multifactor: [],
    enrolledFactors: [],
    ...overrides,
  };
}

export function postUserRegistrationEvent(
  url: string,
  user: Record<string, unknown>,
  connection = databaseConnection,
) {
  return { client, connection, request, tenant, transaction: { locale: 'en' }, user, secrets: secrets(url) };
}

export function postLoginEvent(
  url: string,
  options: { user: Record<string, unknown>; methods?: unknown[]; connection?: typeof databaseConnection },
) {
  return {
    authentication: { methods: options.methods ?? [{ name: 'pwd', timestamp: new Date().toISOString() }] },
    authorization: { roles: [] },
    client,
    connection: options.connection ?? databaseConnection,
    request,
    stats: { logins_count: 3 },
    tenant,
    transaction: { id: 'tx_1', locale: 'en', protocol: 'oidc-basic-profile', requested_scopes: ['openid'] },
    user: options.user,
    secrets: secrets(url),
    configuration: {},
  };
}

/** The post-login api: callerpop's script uses none of it; kept to show it is called as Auth0 calls it. */
export function postLoginApi() {
  const denied: string[] = [];
  return {
    denied,
    api: {
      access: { deny: (reason: string) => denied.push(reason) },
      idToken: { setCustomClaim: () => undefined },
      accessToken: { setCustomClaim: () => undefined },
      multifactor: { enable: () => undefined },
      cache: { get: () => undefined, set: () => ({ type: 'success' }), delete: () => ({ type: 'success' }) },
    },
  };
}

export function sendPhoneMessageEvent(
  url: string,
  options: {
    user?: Record<string, unknown>;
    action?: 'enrollment' | 'second-factor-authentication';
    messageType?: 'sms' | 'voice';
    recipient?: string;
    code?: string;
    secret?: string;
  },
) {
  const code = options.code ?? '482910';
  return {
    client,
    request,
    tenant,
    user: options.user ?? auth0User(),
    message_options: {
      action: options.action ?? 'enrollment',
      code,
      message_type: options.messageType ?? 'sms',
      recipient: options.recipient ?? '+14155550100',
      text: `${code} is your verification code for Acme. Please enter this code to verify your enrollment.`,
    },
    secrets: secrets(url, options.secret),
  };
}

export function customPhoneProviderEvent(
  url: string,
  options: {
    user?: Record<string, unknown>;
    messageType?: 'otp_enroll' | 'otp_verify' | 'blocked_account' | 'change_password' | 'password_breach';
    deliveryMethod?: 'text' | 'voice';
    recipient?: string;
    code?: string;
    locale?: string;
  },
) {
  const code = options.code ?? '482910';
  const messageType = options.messageType ?? 'otp_enroll';
  const hasCode = messageType === 'otp_enroll' || messageType === 'otp_verify';
  return {
    client,
    connection: databaseConnection,
    request,
    tenant,
    user: options.user ?? auth0User(),
    notification: {
      message_type: messageType,
      delivery_method: options.deliveryMethod ?? 'text',
      recipient: options.recipient ?? '+14155550100',
      from: '+15005550006',
      locale: options.locale ?? 'en_US',
      ...(hasCode ? { code } : {}),
      as_text: hasCode ? `${code} is your verification code for Acme.` : 'Your Acme account was blocked.',
      as_voice: hasCode
        ? `Your verification code for Acme is ${[...code].join(' ')}`
        : 'Your account was blocked.',
    },
    secrets: secrets(url),
  };
}

/** api for custom-phone-provider: records retry() and drop() (only the last call counts, as in Auth0). */
export function customPhoneProviderApi() {
  const calls: { method: 'retry' | 'drop'; reason: string | undefined }[] = [];
  return {
    calls,
    last: () => calls.at(-1),
    api: {
      notification: {
        retry: (reason?: string) => calls.push({ method: 'retry', reason }),
        drop: (reason?: string) => calls.push({ method: 'drop', reason }),
      },
      cache: { get: () => undefined, set: () => ({ type: 'success' }), delete: () => ({ type: 'success' }) },
    },
  };
}

/**
 * Alice typed the code: her next login (the real post-login Action, with a phone MFA method) proves the
 * number. Returns the reasons the Action denied the login with (none expected).
 */
export async function confirmAliceByLogin(url: string): Promise<string[]> {
  const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
  const now = new Date().toISOString();
  const { api, denied } = postLoginApi();
  await onExecutePostLogin(
    postLoginEvent(url, {
      user: auth0User({ multifactor: ['guardian'], enrolledFactors: [{ type: 'phone' }] }),
      methods: [
        { name: 'pwd', timestamp: now },
        { name: 'mfa', type: 'phone', timestamp: now },
      ],
    }),
    api,
  );
  return denied;
}
