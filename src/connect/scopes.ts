/**
 * Every Management API scope callerpop's machine-to-machine application can need, and what needs it. One
 * table: a feature that calls a new endpoint adds its row here, and connect then reports it. Scopes as the
 * API reference names them (auth0/docs-v2 main/docs/api/management/v2/**.mdx, `<Scopes …>`; the same as the
 * OAS operations' 403 messages except phone providers, whose 403 text says `…:phone_provider` and whose
 * pages say `…:phone_providers`, the name Auth0 grants).
 */

export type Feature =
  | 'backfill'
  | 'log catch-up'
  | 'connect auth0'
  | 'connect auth0 --phone upe'
  | 'connect auth0 --disable-sms-obfuscation'
  | 'connect auth0 --undo'
  | 'account actions'
  | 'agent sessions';

export interface ScopeNeed {
  scope: string;
  feature: Feature;
  /** What the scope is for, in the operator's words. */
  why: string;
}

export const SCOPE_NEEDS: readonly ScopeNeed[] = [
  { scope: 'read:users', feature: 'backfill', why: 'export the users (POST /jobs/users-exports)' },
  {
    scope: 'read:users',
    feature: 'agent sessions',
    why: 'ask a signed-in agent’s roles again every 5 minutes (GET /users/{id}/roles and /permissions)',
  },
  {
    scope: 'read:authentication_methods',
    feature: 'backfill',
    why: 'read MFA phone numbers (backfill --mfa)',
  },
  { scope: 'read:logs', feature: 'log catch-up', why: 'read what the log stream missed (GET /logs)' },
  { scope: 'read:actions', feature: 'connect auth0', why: 'find callerpop’s Actions, triggers and bindings' },
  { scope: 'create:actions', feature: 'connect auth0', why: 'create and deploy callerpop’s Actions' },
  { scope: 'update:actions', feature: 'connect auth0', why: 'update callerpop’s Actions and bind them' },
  { scope: 'read:log_streams', feature: 'connect auth0', why: 'find the log stream' },
  { scope: 'create:log_streams', feature: 'connect auth0', why: 'create the log stream' },
  { scope: 'update:log_streams', feature: 'connect auth0', why: 'update the log stream' },
  { scope: 'read:clients', feature: 'connect auth0', why: 'find the agents’ application' },
  { scope: 'create:clients', feature: 'connect auth0', why: 'create the agents’ application' },
  { scope: 'update:clients', feature: 'connect auth0', why: 'update the agents’ application' },
  { scope: 'read:tenant_settings', feature: 'connect auth0', why: 'report the SMS obfuscation flag' },
  {
    scope: 'read:phone_providers',
    feature: 'connect auth0 --phone upe',
    why: 'read the tenant phone provider',
  },
  {
    scope: 'create:phone_providers',
    feature: 'connect auth0 --phone upe',
    why: 'set callerpop as phone provider',
  },
  { scope: 'update:phone_providers', feature: 'connect auth0 --phone upe', why: 'switch the phone provider' },
  {
    scope: 'update:tenant_settings',
    feature: 'connect auth0 --disable-sms-obfuscation',
    why: 'turn disable_management_api_sms_obfuscation on',
  },
  { scope: 'delete:actions', feature: 'connect auth0 --undo', why: 'delete callerpop’s Actions' },
  { scope: 'delete:log_streams', feature: 'connect auth0 --undo', why: 'delete the log stream' },
  {
    scope: 'delete:clients',
    feature: 'connect auth0 --undo',
    why: 'delete the agents’ application connect created',
  },
  {
    scope: 'delete:phone_providers',
    feature: 'connect auth0 --undo',
    why: 'remove callerpop’s phone provider',
  },
  { scope: 'read:users', feature: 'account actions', why: 'read the account, its blocks and enrollments' },
  { scope: 'update:users', feature: 'account actions', why: 'unblock, forget remembered browsers' },
  { scope: 'delete:authentication_methods', feature: 'account actions', why: 'reset MFA' },
  { scope: 'create:user_tickets', feature: 'account actions', why: 'password reset tickets' },
  { scope: 'create:guardian_enrollment_tickets', feature: 'account actions', why: 'MFA enrollment tickets' },
  { scope: 'delete:sessions', feature: 'account actions', why: 'revoke sessions (Enterprise)' },
  { scope: 'delete:refresh_tokens', feature: 'account actions', why: 'revoke refresh tokens (Enterprise)' },
  { scope: 'read:roles', feature: 'account actions', why: 'protected users chosen by role' },
];

export interface MissingScope {
  scope: string;
  needs: ScopeNeed[];
}

/** The scopes `features` need that `granted` lacks, each with everything that needs it (any feature). */
export function missingScopes(granted: ReadonlySet<string>, features: readonly Feature[]): MissingScope[] {
  const wanted = new Set(SCOPE_NEEDS.filter((n) => features.includes(n.feature)).map((n) => n.scope));
  return [...wanted]
    .filter((scope) => !granted.has(scope))
    .map((scope) => ({ scope, needs: SCOPE_NEEDS.filter((n) => n.scope === scope) }));
}

export const ALL_FEATURES: readonly Feature[] = [...new Set(SCOPE_NEEDS.map((n) => n.feature))];

/** "read:logs — log catch-up: read what the log stream missed (GET /logs)" */
export function describeMissing(missing: MissingScope): string {
  return `${missing.scope} — ${missing.needs.map((n) => `${n.feature}: ${n.why}`).join('; ')}`;
}
