import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const AUDIT_ACTIONS = [
  'lookup',
  'pop_view',
  'console_view',
  'sign_in',
  'sign_in_refused',
  'sign_out',
  'audit_read',
  'agent_sessions_read',
  'agent_session_revoke',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who looked at what, when: every lookup, every pop view, every sign-in. Append-only. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** `token:admin`, `oidc:{sub}`, or `api:admin-token` for the bearer token. */
    agentId: text('agent_id').notNull(),
    agentName: text('agent_name'),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    /** What was looked at: the E.164 looked up, the interaction id viewed. */
    target: text('target'),
    /** Small JSON object: match count, how the lookup arrived, why a sign-in was refused. */
    detail: text('detail', { mode: 'json' }).notNull().default(sql`'{}'`),
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_agent').on(t.agentId, t.at),
    index('audit_log_target').on(t.target, t.at),
  ],
);
