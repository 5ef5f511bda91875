/**
 * Auth0 tenant log events shaped as Auth0's log schema describes them (auth0/docs-v2
 * `main/docs/oas/tenant-logs/logs-schema.json`, one schema per type; the same files as auth0/auth0-log-schemas).
 * The schema has no whole example objects, so each builder fills in every field the type's schema marks
 * `required`, puts the phone fields at the schema's paths, and uses the schema's field examples where it has
 * them (`user_name` "+14155554321", `environment_name` "prod-us-1"). `date` and `user_id` are not
 * `required` for any of these types: a builder leaves them out when asked.
 *
 * What the schema does not settle is a `LogReading`, and the tests run under each:
 * - `authenticator`: `details.authenticator.type` has no enum (the one documented value is "totp", in
 *   main/docs/secure/multi-factor-authentication/adaptive-mfa/adaptive-mfa-log-events.mdx), so a phone factor
 *   may say `sms`, `phone` or `voice`, or say nothing but its id's prefix (`sms|dev_…`, as the MFA API example
 *   in cte-example-use-cases.mdx shows), or only the description's "(sms)".
 */

export type LogObject = Record<string, unknown> & { log_id: string; type: string };

export type AuthenticatorReading = 'type sms' | 'type phone' | 'id prefix only' | 'description only';
export const AUTHENTICATOR_READINGS: readonly AuthenticatorReading[] = [
  'type sms',
  'type phone',
  'id prefix only',
  'description only',
];

const TENANT = 'acme';
let sequence = 0;

/** Log ids sort by creation (GET /api/v2/logs: "The logs are ordered by the `log_id`"). */
export function nextLogId(): string {
  sequence += 1;
  return `900202611200000000000000000000000000000000000${String(sequence).padStart(10, '0')}`;
}

interface Common {
  logId?: string;
  date?: number | null;
  userId?: string | null;
}

/** Fields every type's schema marks required (log_id, type, description, ip, tenant_name, environment_name). */
function base(type: string, description: string, c: Common): LogObject {
  const log: LogObject = {
    log_id: c.logId ?? nextLogId(),
    type,
    description,
    environment_name: 'prod-us-1',
    tenant_name: TENANT,
    ip: '203.0.113.7',
    user_agent: 'Chrome 120.0.0 / Mac OS X 10.15.7',
  };
  if (c.date !== null) log.date = new Date(c.date ?? Date.now()).toISOString();
  if (c.userId !== null) log.user_id = c.userId ?? 'auth0|alice';
  return log;
}

/**
 * A gd_* event (gd_enrollment_complete, gd_unenroll, gd_update_device_account, gd_send_sms, gd_send_voice,
 * gd_auth_succeed, gd_start_enroll …): the schema's shared `details` with `authenticator` (`id` and `type`
 * required when present, `phone_number` string|null) and `enrollment` (`_id`, `tenant`, `user_id` required).
 */
export function guardianEvent(
  type: string,
  options: Common & {
    phone?: string | null;
    reading?: AuthenticatorReading;
    factor?: 'sms' | 'voice' | 'totp' | 'push';
    enrollment?: boolean;
  } = {},
): LogObject {
  const factor = options.factor ?? 'sms';
  const reading = options.reading ?? 'type sms';
  const device = `dev_${String(sequence).padStart(16, '0')}`;
  const authenticator: Record<string, unknown> = { id: `${factor}|${device}` };
  if (reading === 'type sms') authenticator.type = factor;
  if (reading === 'type phone')
    authenticator.type = factor === 'sms' || factor === 'voice' ? 'phone' : factor;
  if (reading === 'description only') authenticator.id = device;
  if (options.phone !== undefined) authenticator.phone_number = options.phone;
  const details: Record<string, unknown> = { authenticator };
  if (options.enrollment) {
    details.enrollment = {
      _id: device,
      tenant: TENANT,
      user_id: options.userId ?? 'auth0|alice',
      ...(options.phone !== undefined ? { phone_number: options.phone } : {}),
    };
  }
  return { ...base(type, `Guardian - ${type} (${factor})`, options), details };
}

/** scpn, "Successful Change Phone Number": required adds client_name, strategy, strategy_type; numbers in details.body. */
export function phoneChangeEvent(
  options: Common & {
    newPhone?: string;
    oldPhone?: string;
    phoneVerified?: boolean;
    strategy?: 'auth0' | 'sms';
  },
): LogObject {
  const strategy = options.strategy ?? 'auth0';
  const connection = strategy === 'sms' ? 'sms' : 'Username-Password-Authentication';
  const body: Record<string, unknown> = {
    user_id: options.userId ?? 'auth0|alice',
    connection,
    tenant: TENANT,
    verify: true,
  };
  if (options.newPhone !== undefined) body.new_phone_number = options.newPhone;
  if (options.oldPhone !== undefined) body.old_phone_number = options.oldPhone;
  if (options.phoneVerified !== undefined) body.phone_verified = options.phoneVerified;
  return {
    ...base('scpn', 'Successful Change Phone Number', options),
    client_name: 'Acme Portal',
    strategy,
    strategy_type: strategy === 'sms' ? 'passwordless' : 'database',
    connection,
    details: { body },
  };
}

/** sdu, "Successful User Deletion": details.body has connection and tenant only; no number, no user id. */
export function userDeletedEvent(options: Common = {}): LogObject {
  return {
    ...base('sdu', 'Deleted user', options),
    strategy: 'auth0',
    strategy_type: 'database',
    details: { body: { connection: 'Username-Password-Authentication', tenant: TENANT } },
  };
}

/** cs, "Passwordless Login Code Sent": details.body.phone_number and the rest of its body are required. */
export function passwordlessCodeEvent(options: Common & { phone: string }): LogObject {
  return {
    ...base('cs', 'Passwordless login code sent', { userId: 'sms|6612d0c3a1', ...options }),
    client_name: 'Acme Portal',
    strategy: 'sms',
    strategy_type: 'passwordless',
    user_name: options.phone,
    details: {
      body: {
        authParams: { response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.com/cb' },
        client_id: 'AaiyAPdpYdesoKnqjj8HJqRn4T5titww',
        connection: 'sms',
        ip: '203.0.113.7',
        phone_number: options.phone,
        request_language: 'en-US',
        send: 'code',
        tenant: TENANT,
        'user-agent': 'Mozilla/5.0',
        username: options.phone,
      },
    },
  };
}

/** ss, "Successful Signup": details.body.phone_number / phone_verified optional; required adds hostname. */
export function signupEvent(options: Common & { phone?: string; phoneVerified?: boolean }): LogObject {
  const body: Record<string, unknown> = {
    user_id: options.userId ?? 'auth0|bob',
    email: 'bob@example.com',
    connection: 'Username-Password-Authentication',
    tenant: TENANT,
  };
  if (options.phone !== undefined) body.phone_number = options.phone;
  if (options.phoneVerified !== undefined) body.phone_verified = options.phoneVerified;
  return {
    ...base('ss', '', { userId: 'auth0|bob', ...options }),
    hostname: 'acme.us.auth0.com',
    client_name: 'Acme Portal',
    strategy: 'auth0',
    strategy_type: 'database',
    details: { body },
  };
}

/**
 * sapi, "Successful API Operation Only emitted by the Management API on POST, DELETE, PATCH, and PUT": its
 * `details.request` is untyped in the schema; shaped here like the one documented request object (the
 * Guardian API's, adaptive-mfa-log-events.mdx: method, path, query, body).
 */
export function managementApiEvent(
  options: Common & { method: string; path: string; body?: Record<string, unknown> },
): LogObject {
  return {
    ...base('sapi', 'Update a User', { userId: null, ...options }),
    client_id: 'MgmtClientId0123456789abcdef',
    client_name: 'Admin tool',
    details: {
      request: {
        method: options.method.toLowerCase(),
        path: options.path,
        query: {},
        body: options.body ?? {},
      },
      response: { statusCode: 200, body: {} },
    },
  };
}

/** A type that says nothing about phones ("s", a successful login). */
export function loginEvent(options: Common = {}): LogObject {
  return base('s', 'Success Login', options);
}
