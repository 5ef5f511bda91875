/**
 * Runs the Action scripts in `actions/` as Auth0 would: the CommonJS module loaded by Node, its exported
 * handler called with an `event` shaped like the trigger's reference page (auth0-action-events.ts) and an
 * `api` that behaves as the trigger's API page says, its secrets pointing at the real app on loopback.
 * API pages: auth0/docs-v2 `main/docs/actions/reference/<trigger>/<trigger>-api-object.mdx`, cited API(<trigger>).
 *
 *   const served = await serveApp(f.ctx.app);
 *   const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
 *   await onExecutePostLogin(postLoginEvent(served.url, { user: auth0User() }), postLoginApi().api);
 */

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { auth0User, type PostLoginOptions, postLoginEvent } from './auth0-action-events.js';
import { type Auth0Fixture, createAuth0Fixture } from './auth0-context.js';

export * from './auth0-action-events.js';

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

/**
 * What the phone triggers' pages leave open. Each field is one question; PHONE_READINGS holds every
 * combination, and the flow tests run under each.
 */
export interface PhoneReadings {
  /** EVENT(custom-phone-provider), "event.connection" is optional: present on every message, or on none. */
  connection: 'present' | 'absent';
  /**
   * The user fields: the event page's list (identities optional, no multifactor), or the UPE migration table's
   * (use-auth0s-unified-phone-experience-for-multi-factor-authentication.mdx, "User data": identities
   * "Removed", multifactor "Unchanged", login_count "New"). The two pages disagree.
   */
  userFields: 'event-page' | 'migration-table';
  /**
   * event.user before the user exists (a first passwordless login, a phone checked at sign-up): `{}` as the
   * page's skeleton shows, or the user Auth0 is about to create. Not documented.
   */
  userBeforeCreation: 'empty' | 'present';
  /**
   * message_type of a sign-in code that is no MFA (passwordless, phone as identifier). Auth0's passwordless
   * sample handles `otp_verify` (unified-phone-experience-passwordless.mdx, "Custom SMS gateway to
   * custom-phone-provider example"); whether a first login or sign-up sends `otp_enroll` is not said.
   */
  signInCodeType: 'otp_verify' | 'otp_enroll';
}

const choices = {
  connection: ['present', 'absent'],
  userFields: ['event-page', 'migration-table'],
  userBeforeCreation: ['empty', 'present'],
  signInCodeType: ['otp_verify', 'otp_enroll'],
} as const;

/** Every combination of PhoneReadings, named by its choices. */
export const PHONE_READINGS: [string, PhoneReadings][] = choices.connection.flatMap((connection) =>
  choices.userFields.flatMap((userFields) =>
    choices.userBeforeCreation.flatMap((userBeforeCreation) =>
      choices.signInCodeType.map((signInCodeType): [string, PhoneReadings] => [
        `connection ${connection}, ${userFields} fields, user before creation ${userBeforeCreation}, sign-in code ${signInCodeType}`,
        { connection, userFields, userBeforeCreation, signInCodeType },
      ]),
    ),
  ),
);

/** API(post-login) for scripts that only report: callerpop's login script uses none of it. */
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

export { customPhoneProviderApi, runNotification } from './auth0-notification.js';

/**
 * Alice typed the code: her next login (the real post-login Action, with a phone MFA method) proves the
 * number. Returns the reasons the Action denied the login with (none expected).
 */
export async function confirmAliceByLogin(url: string, options: Partial<PostLoginOptions> = {}) {
  const { onExecutePostLogin } = loadAction<PostLoginModule>('post-login');
  const now = new Date().toISOString();
  const { api, denied } = postLoginApi();
  await onExecutePostLogin(
    postLoginEvent(url, {
      user: auth0User({ multifactor: ['guardian'], enrolledFactors: [{ type: 'phone' }] }),
      // customize-mfa-enrollments-universal-login.mdx, "How it works": an MFA method has `type`, matching
      // enrolledFactors' type.
      methods: [
        { name: 'pwd', timestamp: now },
        { name: 'mfa', type: 'phone', timestamp: now },
      ],
      ...options,
    }),
    api,
  );
  return denied;
}
