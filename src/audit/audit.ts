import type { Context } from 'hono';
import type { AuditAction } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { appendAudit, appendOrCountAudit } from './queries.js';

export interface AuditActor {
  id: string;
  name: string | null;
}

/**
 * Writes one audit entry. Awaited, not fire-and-forget: an access that cannot be recorded is not served
 * (the caller's error handler turns a failure into a 500 without detail).
 */
export async function audit(
  deps: Pick<AppDeps, 'db' | 'now'>,
  c: Context | null,
  actor: AuditActor,
  action: AuditAction,
  target: string | null,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await appendAudit(deps.db, {
    at: deps.now(),
    agentId: actor.id,
    agentName: actor.name,
    action,
    target,
    detail,
    requestId: (c?.get('requestId') as string | undefined) ?? null,
  });
}

/** One refused sign-in row per agent (anonymous for a wrong token) and reason per minute; the rest counted. */
export const REFUSAL_WINDOW_MS = 60_000;

/**
 * Audits a refused sign-in. Anyone can cause one without signing in, so repeats within a minute are counted
 * on the first entry (`detail.repeats`) instead of each adding a row: a caller hammering the sign-in form
 * cannot grow the database without bound, and the audit still shows how many attempts there were.
 */
export async function auditRefusal(
  deps: Pick<AppDeps, 'db' | 'now'>,
  c: Context | null,
  actor: AuditActor,
  detail: Record<string, unknown> & { reason: string },
): Promise<void> {
  const at = deps.now();
  await appendOrCountAudit(
    deps.db,
    {
      at,
      agentId: actor.id,
      agentName: actor.name,
      action: 'sign_in_refused',
      target: null,
      detail,
      requestId: (c?.get('requestId') as string | undefined) ?? null,
    },
    at - REFUSAL_WINDOW_MS,
  );
}
