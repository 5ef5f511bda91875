/**
 * Auth0 Action `event` objects, one builder per trigger, each following its reference page in auth0/docs-v2:
 * `main/docs/actions/reference/<trigger>/<trigger>-event-object.mdx`, cited below as EVENT(<trigger>), with
 * the page's section. Each page's JSON skeleton is the base; the documented optional fields are filled where
 * the flow has them. A test describes a person once (auth0User: the user as Auth0 stores it, `blocked` and
 * `last_login` included) and each builder hands its trigger only the user fields that trigger's page lists,
 * so a script cannot come to rely on a field Auth0 does not send there.
 * Where a page is silent, PhoneReadings (auth0-actions.ts) chooses; the tests run each reading.
 */
import { TEST_ENV } from './context.js';

export const secrets = (url: string, secret: string = TEST_ENV.AUTH0_WEBHOOK_SECRET) => ({
  CALLERPOP_URL: url,
  CALLERPOP_SECRET: secret,
});

/** EVENT(*), "event.user": the fields every trigger lists (user_id, created_at, updated_at, metadata required). */
const COMMON_USER_FIELDS = [
  'app_metadata',
  'created_at',
  'email',
  'email_verified',
  'family_name',
  'given_name',
  'last_password_reset',
  'name',
  'nickname',
  'phone_number',
  'phone_verified',
  'picture',
  'updated_at',
  'user_id',
  'user_metadata',
  'username',
] as const;
/** EVENT(post-login), "event.user": also identities (required), enrolledFactors and multifactor (optional). */
const POST_LOGIN_USER_FIELDS = [...COMMON_USER_FIELDS, 'identities', 'enrolledFactors', 'multifactor'];
/** EVENT(post-user-registration), "event.user": the common fields only: no identities, no MFA fields. */
const REGISTRATION_USER_FIELDS = [...COMMON_USER_FIELDS];
/** EVENT(send-phone-message) and EVENT(custom-phone-provider), "event.user": identities optional, no MFA fields. */
const PHONE_USER_FIELDS = [...COMMON_USER_FIELDS, 'identities'];

type User = Record<string, unknown>;

/** The fields of `user` a trigger's page lists (absent ones stay absent: they are optional). */
export function projectUser(user: User, fields: readonly string[]): User {
  return Object.fromEntries(Object.entries(user).filter(([key]) => fields.includes(key)));
}

export const DATABASE_CONNECTION = {
  id: 'con_fpe5kj482KO1eOzh',
  name: 'Username-Password-Authentication',
  // EVENT(custom-phone-provider), "event.connection": "`auth0` (database connections)".
  strategy: 'auth0',
  metadata: {},
};
export const SMS_CONNECTION = { id: 'con_6uQ0mGd2QrYbYk7Y', name: 'sms', strategy: 'sms', metadata: {} };
export type Connection = typeof DATABASE_CONNECTION;

/**
 * A person as Auth0 stores it (a database user unless overridden). More than any trigger gets: builders
 * project it. `enrolledFactors` is post-login's view of the user's factors (EVENT(post-login), "event.user").
 */
export function auth0User(overrides: User = {}): User {
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
    identities: [{ provider, user_id: id, connection: DATABASE_CONNECTION.name, isSocial: false }],
    app_metadata: {},
    user_metadata: {},
    // Stored, but on no trigger's event.user: projections drop them.
    blocked: false,
    last_login: '2026-11-19T08:00:00.000Z',
    logins_count: 3,
    ...overrides,
  };
}

/** A passwordless SMS user: its user_id is `sms|…` and its number is its login. */
export function smsUser(phone: string, overrides: User = {}): User {
  return auth0User({
    user_id: 'sms|6612d0c3a1',
    email: undefined,
    name: phone,
    nickname: phone,
    phone_number: phone,
    phone_verified: true,
    identities: [{ provider: 'sms', user_id: '6612d0c3a1', connection: 'sms', isSocial: false }],
    ...overrides,
  });
}

// EVENT(*), "event.tenant": `id` is "The name of the tenant".
const tenant = { id: 'acme-prod' };
// EVENT(post-login | send-phone-message | custom-phone-provider), "event.client": client_id, metadata, name.
const client = { client_id: 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww', name: 'Acme Portal', metadata: {} };
// EVENT(*), "event.request": geoip, ip and method required; hostname, language, user_agent optional.
const request = {
  ip: '203.0.113.7',
  hostname: 'acme.eu.auth0.com',
  language: 'en-US,en;q=0.9',
  method: 'POST',
  user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
  geoip: { countryCode: 'US', countryCode3: 'USA', countryName: 'United States', cityName: 'San Francisco' },
};

/**
 * EVENT(post-user-registration): connection, request?, secrets, tenant, transaction?, user. No `event.client`,
 * and the user has no identities. The trigger runs for Database and Passwordless connections only
 * (main/docs/customize/actions/explore-triggers/post-user-registration.mdx).
 */
export function postUserRegistrationEvent(
  url: string,
  user: User,
  connection: Connection = DATABASE_CONNECTION,
) {
  return {
    connection,
    request,
    tenant,
    transaction: { locale: 'en' },
    user: projectUser(user, REGISTRATION_USER_FIELDS),
    secrets: secrets(url),
  };
}

export interface PostLoginOptions {
  user: User;
  /** EVENT(post-login), "event.authentication": methods the user completed in this session. */
  methods?: unknown[];
  connection?: Connection;
  /**
   * EVENT(post-login), "event.transaction": `protocol`. The trigger also runs "when a Refresh Token is
   * exchanged" (explore-triggers/post-login.mdx): `oauth2-refresh-token`.
   */
  protocol?: string;
}

/** EVENT(post-login): the page's skeleton (client, connection, request with body/query, stats, tenant, user). */
export function postLoginEvent(url: string, options: PostLoginOptions) {
  return {
    authentication: { methods: options.methods ?? [{ name: 'pwd', timestamp: new Date().toISOString() }] },
    authorization: { roles: [] },
    client,
    connection: options.connection ?? DATABASE_CONNECTION,
    request: { ...request, body: {}, query: {} },
    stats: { logins_count: 3 },
    tenant,
    transaction: {
      id: 'tx_1',
      locale: 'en',
      protocol: options.protocol ?? 'oidc-basic-profile',
      requested_scopes: ['openid'],
    },
    user: projectUser(options.user, POST_LOGIN_USER_FIELDS),
    secrets: secrets(url),
  };
}

export interface SendPhoneMessageOptions {
  user?: User;
  /** EVENT(send-phone-message), "event.message_options": `enrollment` or `second-factor-authentication`. */
  action?: 'enrollment' | 'second-factor-authentication';
  messageType?: 'sms' | 'voice';
  recipient?: string;
  code?: string;
  secret?: string;
}

/** EVENT(send-phone-message): client (optional), message_options, request, tenant, transaction, user. No connection. */
export function sendPhoneMessageEvent(url: string, options: SendPhoneMessageOptions) {
  const code = options.code ?? '482910';
  return {
    client,
    request,
    tenant,
    transaction: { correlation_id: 'corr_1' },
    user: projectUser(options.user ?? auth0User(), PHONE_USER_FIELDS),
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

export const MESSAGE_TYPES = [
  'otp_verify',
  'otp_enroll',
  'blocked_account',
  'change_password',
  'password_breach',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface CustomPhoneProviderOptions {
  /** null: `"user": {}`, the page's own skeleton (no user yet). */
  user?: User | null;
  /** EVENT(custom-phone-provider), "event.connection" is optional: null leaves it out. */
  connection?: Connection | null;
  /** The reading of the user fields (PhoneReadings.userFields in auth0-actions.ts). */
  userFields?: 'event-page' | 'migration-table';
  messageType?: MessageType;
  deliveryMethod?: 'text' | 'voice';
  recipient?: string;
  code?: string;
  locale?: string;
}

/**
 * EVENT(custom-phone-provider): client, connection?, notification, request, tenant, transaction?, user.
 * "event.notification": `code` only "for some types (e.g. `otp_verify`, `otp_enroll`)"; `from` and `locale`
 * optional. "event.user": the common fields plus optional identities, unless the UPE migration table's reading
 * is chosen (use-auth0s-unified-phone-experience-for-multi-factor-authentication.mdx, "User data": identities
 * "Removed", multifactor "Unchanged", login_count "New").
 */
export function customPhoneProviderEvent(url: string, options: CustomPhoneProviderOptions) {
  const code = options.code ?? '482910';
  const messageType = options.messageType ?? 'otp_enroll';
  const hasCode = messageType === 'otp_enroll' || messageType === 'otp_verify';
  const person = options.user === undefined ? auth0User() : options.user;
  let user: User = {};
  if (person && options.userFields === 'migration-table') {
    user = projectUser(person, [...COMMON_USER_FIELDS, 'multifactor']);
    user.login_count = person.logins_count;
  } else if (person) {
    user = projectUser(person, PHONE_USER_FIELDS);
  }
  const connection = options.connection === undefined ? DATABASE_CONNECTION : options.connection;
  return {
    client,
    ...(connection ? { connection } : {}),
    request,
    tenant,
    transaction: { correlation_id: 'corr_1' },
    user,
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
