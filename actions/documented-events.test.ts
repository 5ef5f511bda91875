import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CustomPhoneProviderModule,
  closeAuth0Fixture,
  loadAction,
  type PostLoginModule,
  type PostUserRegistrationModule,
  postLoginApi,
  runNotification,
  type SendPhoneMessageModule,
  type ServedApp,
  secrets,
  serveAuth0Fixture,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, rows } from '../test/support/auth0-context.js';

/**
 * Real-shaped Action events through the whole path: each event is its trigger's JSON skeleton from
 * auth0/docs-v2 `main/docs/actions/reference/<trigger>/<trigger>-event-object.mdx` (secrets, client,
 * connection, request, tenant, user… with "string" replaced by values), filled only with fields the same page
 * documents. The real Action script runs it, signs its POST, the real app on loopback applies it, and the
 * test reads what landed in the index.
 */

type Trigger = 'post-user-registration' | 'post-login' | 'send-phone-message' | 'custom-phone-provider';
type Event = Record<string, unknown>;

const tenant = { id: 'acme' };
// "event.request" (every trigger): geoip, ip, method required; post-login adds body and query.
const request = { geoip: { countryCode: 'US' }, ip: '203.0.113.7', method: 'POST' };
const client = { client_id: 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww', metadata: {}, name: 'Acme Portal' };
const database = { id: 'con_fpe5kj482KO1eOzh', name: 'Username-Password-Authentication', strategy: 'auth0' };
const sms = { id: 'con_6uQ0mGd2QrYbYk7Y', name: 'sms', strategy: 'sms' };
/** "event.user": the fields every trigger's page marks required, and the optional ones a case needs. */
const amy = {
  user_id: 'auth0|65a1f0c2e4b0a1b2c3d4e5f6',
  email: 'amy@example.com',
  email_verified: true,
  name: 'Amy Adams',
  created_at: '2026-11-01T09:00:00.000Z',
  updated_at: '2026-11-01T09:00:00.000Z',
  app_metadata: {},
  user_metadata: {},
};
const passwordless = {
  user_id: 'sms|65a1f0c2e4b0a1b2c3d4e5f7',
  phone_number: '+14155550199',
  phone_verified: true,
  created_at: '2026-11-01T09:00:00.000Z',
  updated_at: '2026-11-01T09:00:00.000Z',
  email_verified: false,
  app_metadata: {},
  user_metadata: {},
};
const now = () => new Date().toISOString();

interface Step {
  trigger: Trigger;
  event: (url: string) => Event;
}

/** EVENT(post-user-registration): secrets, connection, tenant, user (no client, no identities). */
const registration = (user: Event, connection = database): Step => ({
  trigger: 'post-user-registration',
  event: (url) => ({ secrets: secrets(url), connection, tenant, user, request }),
});

/** EVENT(post-login): secrets, client, connection, request (+body, query), stats, tenant, user; + authentication, transaction. */
const login = (user: Event, extra: () => Event = () => ({})): Step => ({
  trigger: 'post-login',
  event: (url) => ({
    secrets: secrets(url),
    client,
    connection: database,
    request: { ...request, body: {}, query: {} },
    stats: { logins_count: 2 },
    tenant,
    user: { identities: [{ provider: 'auth0', user_id: user.user_id?.toString().split('|')[1] }], ...user },
    ...extra(),
  }),
});

/** EVENT(send-phone-message): secrets, message_options, request, tenant, user. */
const phoneMessage = (options: Event): Step => ({
  trigger: 'send-phone-message',
  event: (url) => ({
    secrets: secrets(url),
    message_options: {
      action: 'enrollment',
      code: '305112',
      message_type: 'sms',
      recipient: '+14155550100',
      text: '305112 is your verification code for Acme.',
      ...options,
    },
    request,
    tenant,
    user: amy,
  }),
});

/** EVENT(custom-phone-provider): secrets, client, notification, request, tenant, user (`{}` in the skeleton). */
const notification = (user: Event, options: Event, connection?: Event): Step => ({
  trigger: 'custom-phone-provider',
  event: (url) => ({
    secrets: secrets(url),
    client,
    ...(connection ? { connection } : {}),
    notification: {
      as_text: '118822 is your verification code for Acme.',
      as_voice: 'Your verification code for Acme is 1 1 8 8 2 2',
      delivery_method: 'text',
      message_type: 'otp_verify',
      recipient: '+14155550100',
      code: '118822',
      ...options,
    },
    request,
    tenant,
    user,
  }),
});

interface Case {
  name: string;
  steps: Step[];
  accounts: Event[];
  links: Event[];
  deliveries: Event[];
}

const CASES: Case[] = [
  {
    name: 'post-user-registration: a database user with a profile phone',
    steps: [registration({ ...amy, phone_number: '+14155550177', phone_verified: false })],
    accounts: [{ user_id: amy.user_id, connection: database.name, email: amy.email }],
    links: [{ e164: '+14155550177', user_id: amy.user_id, source: 'profile', verified: 0 }],
    deliveries: [],
  },
  {
    name: 'post-user-registration: a passwordless SMS user, its number its login',
    steps: [registration(passwordless, sms)],
    accounts: [{ user_id: passwordless.user_id, connection: 'sms', email: null }],
    links: [{ e164: '+14155550199', user_id: passwordless.user_id, source: 'passwordless', verified: 1 }],
    deliveries: [],
  },
  {
    name: 'send-phone-message enrollment, then a post-login with a phone MFA method: a verified MFA phone',
    steps: [
      phoneMessage({}),
      login(
        { ...amy, multifactor: ['guardian'], enrolledFactors: [{ type: 'phone' }] },
        // Built when the login runs: the MFA happens after the code went out.
        () => ({ authentication: { methods: [{ name: 'mfa', type: 'phone', timestamp: now() }] } }),
      ),
    ],
    accounts: [{ user_id: amy.user_id, connection: database.name, email: amy.email }],
    links: [{ e164: '+14155550100', user_id: amy.user_id, source: 'mfa_sms', verified: 1 }],
    deliveries: [{ user_id: amy.user_id, purpose: 'enrollment', channel: 'sms', status: 'sent' }],
  },
  {
    name: 'send-phone-message second factor by voice',
    steps: [phoneMessage({ action: 'second-factor-authentication', message_type: 'voice' })],
    accounts: [{ user_id: amy.user_id, connection: null, email: amy.email }],
    links: [{ e164: '+14155550100', user_id: amy.user_id, source: 'mfa_voice', verified: 0 }],
    deliveries: [{ user_id: amy.user_id, purpose: 'authentication', channel: 'voice', status: 'sent' }],
  },
  {
    name: 'post-login for a refresh-token exchange: no login, nothing written',
    steps: [login(amy, () => ({ transaction: { protocol: 'oauth2-refresh-token' } }))],
    accounts: [],
    links: [],
    deliveries: [],
  },
  {
    name: 'custom-phone-provider, the skeleton as the page shows it ("user": {}, no connection): sent, not indexed',
    steps: [notification({}, {})],
    accounts: [],
    links: [],
    deliveries: [{ user_id: null, purpose: 'unclassified_code', channel: 'sms', status: 'sent' }],
  },
  {
    name: 'custom-phone-provider otp_enroll for a database user: an MFA phone, unverified',
    steps: [notification(amy, { message_type: 'otp_enroll' }, database)],
    accounts: [{ user_id: amy.user_id, connection: database.name, email: amy.email }],
    links: [{ e164: '+14155550100', user_id: amy.user_id, source: 'mfa_sms', verified: 0 }],
    deliveries: [{ user_id: amy.user_id, purpose: 'enrollment', channel: 'sms', status: 'sent' }],
  },
  {
    name: 'custom-phone-provider passwordless login code: a passwordless link, never MFA',
    steps: [notification(passwordless, { recipient: '+14155550199' }, sms)],
    accounts: [{ user_id: passwordless.user_id, connection: 'sms', email: null }],
    links: [{ e164: '+14155550199', user_id: passwordless.user_id, source: 'passwordless', verified: 0 }],
    deliveries: [
      { user_id: passwordless.user_id, purpose: 'passwordless_code', channel: 'sms', status: 'sent' },
    ],
  },
  {
    name: 'custom-phone-provider blocked_account (no code): the profile phone',
    steps: [
      notification(
        amy,
        { message_type: 'blocked_account', code: undefined, as_text: 'Your Acme account was blocked.' },
        database,
      ),
    ],
    accounts: [{ user_id: amy.user_id, connection: database.name, email: amy.email }],
    links: [{ e164: '+14155550100', user_id: amy.user_id, source: 'profile', verified: 0 }],
    deliveries: [{ user_id: amy.user_id, purpose: 'blocked_account', channel: 'sms', status: 'sent' }],
  },
];

describe('documented Action events, through the real scripts and app, into the index', () => {
  let f: Auth0Fixture;
  let served: ServedApp;
  beforeEach(async () => {
    ({ f, served } = await serveAuth0Fixture());
  });
  afterEach(() => closeAuth0Fixture(f, served));

  async function run(step: Step) {
    const event = step.event(served.url);
    if (step.trigger === 'post-user-registration') {
      const { onExecutePostUserRegistration } = loadAction<PostUserRegistrationModule>(step.trigger);
      await onExecutePostUserRegistration(event);
    } else if (step.trigger === 'post-login') {
      const { onExecutePostLogin } = loadAction<PostLoginModule>(step.trigger);
      const { api, denied } = postLoginApi();
      await onExecutePostLogin(event, api);
      expect(denied).toEqual([]);
    } else if (step.trigger === 'send-phone-message') {
      const { onExecuteSendPhoneMessage } = loadAction<SendPhoneMessageModule>(step.trigger);
      await onExecuteSendPhoneMessage(event);
    } else {
      const { onExecuteCustomPhoneProvider } = loadAction<CustomPhoneProviderModule>(step.trigger);
      expect(await runNotification(onExecuteCustomPhoneProvider, event)).toMatchObject({ outcome: 'sent' });
    }
  }

  it.each(CASES)('$name', async (c) => {
    for (const step of c.steps) await run(step);
    expect(await rows(f.ctx, 'select user_id, connection, email from accounts order by user_id')).toEqual(
      c.accounts,
    );
    expect(
      await rows(f.ctx, 'select e164, user_id, source, verified from phone_links where removed_at is null'),
    ).toEqual(c.links);
    expect(
      await rows(f.ctx, 'select user_id, purpose, channel, status from otp_deliveries order by rowid'),
    ).toEqual(c.deliveries);
  });
});
