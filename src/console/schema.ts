import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Agent sessions, kept on the server: the cookie names one by its id, and signing out, an administrator's
 * revocation, or a role taken away at the identity provider ends it at once for pages, the API and sockets.
 */
export const agentSessions = sqliteTable(
  'agent_sessions',
  {
    /** The session's random id (the cookie's `sid`). */
    id: text('id').primaryKey(),
    /** The agent: Auth0 user id for OIDC sign-in, `admin-token` for the token link. */
    sub: text('sub').notNull(),
    name: text('name').notNull(),
    email: text('email'),
    method: text('method', { enum: ['token', 'oidc'] }).notNull(),
    admin: integer('admin', { mode: 'boolean' }).notNull(),
    /** The roles the identity provider last said the agent holds (JSON array). */
    roles: text('roles').notNull().default('[]'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** When the agent's roles were last checked with the identity provider. */
    rolesCheckedAt: integer('roles_checked_at').notNull(),
    revokedAt: integer('revoked_at'),
    /** Who or what ended it: `sign-out`, `role removed`, an administrator's id. */
    revokedBy: text('revoked_by'),
  },
  (t) => [index('agent_sessions_sub').on(t.sub), index('agent_sessions_expires').on(t.expiresAt)],
);
