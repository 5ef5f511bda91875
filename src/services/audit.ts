import type { Context } from 'hono';
import { appendAudit } from '../db/audit.js';
import type { AuditAction } from '../db/schema.js';
import type { AppDeps } from '../deps.js';

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
