import type { Config } from '../config.js';
import { purgeAgentSessions } from '../console/index.js';
import type { AppDeps } from '../deps.js';
import { purgeVerificationData } from '../verify-phone/index.js';
import { type PurgeResult, purgeExpired } from './queries.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long an event id is remembered for de-duplication. Twilio retries within seconds and Actions within
 * their 20 s budget; Log Streams can redeliver after a paused stream resumes, hence days rather than hours.
 * Index writes are event-time ordered, so a redelivery older than this window is still harmless.
 */
export const EVENT_ID_WINDOW_DAYS = 30;

export function retentionCutoffs(
  config: Pick<Config, 'RETENTION_DAYS' | 'AUDIT_RETENTION_DAYS'>,
  now: number,
) {
  return {
    interactionsBefore: now - config.RETENTION_DAYS * DAY_MS,
    eventsBefore: now - Math.min(EVENT_ID_WINDOW_DAYS, config.RETENTION_DAYS) * DAY_MS,
    auditBefore: now - config.AUDIT_RETENTION_DAYS * DAY_MS,
    now,
  };
}

/**
 * Deletes what is past its retention (phone numbers are personal data): calls and texts with their caller
 * verifications, OTP deliveries and enrollment decisions older than RETENTION_DAYS; event ids past the
 * de-duplication window; agent sessions ended over a week ago; expired /verify sessions and used tokens, and verification attempts older than
 * RETENTION_DAYS; seen users of backfill runs that will never finish; audit entries older than
 * AUDIT_RETENTION_DAYS (kept longer: the trail of who looked at a number must outlive the number).
 * Runtime-neutral: the Worker's Cron Trigger and the Node entry's hourly timer both call this.
 */
export async function runRetention(
  deps: Pick<AppDeps, 'db' | 'config' | 'now' | 'logger'>,
): Promise<PurgeResult> {
  const started = deps.now();
  const removed = await purgeExpired(deps.db, retentionCutoffs(deps.config, started));
  await purgeVerificationData(deps.db, started, deps.config.RETENTION_DAYS * DAY_MS);
  // Ended agent sessions are kept a week (an administrator may want to see who was signed in), then dropped.
  await purgeAgentSessions(deps.db, { now: started, keepMs: 7 * DAY_MS });
  deps.logger.info('retention: expired rows deleted', {
    ...removed,
    retentionDays: deps.config.RETENTION_DAYS,
    auditRetentionDays: deps.config.AUDIT_RETENTION_DAYS,
    ms: deps.now() - started,
  });
  return removed;
}
