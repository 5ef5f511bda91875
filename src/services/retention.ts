import type { Config } from '../config.js';
import { type PurgeResult, purgeExpired } from '../db/retention.js';
import type { AppDeps } from '../deps.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long an event id is remembered for de-duplication. Twilio retries within seconds and Actions within
 * their 20 s budget; Log Streams can redeliver after a paused stream resumes, hence days rather than hours.
 * Index writes are event-time ordered, so a redelivery older than this window is still harmless.
 */
export const EVENT_ID_WINDOW_DAYS = 30;

export function retentionCutoffs(config: Pick<Config, 'RETENTION_DAYS'>, now: number) {
  return {
    interactionsBefore: now - config.RETENTION_DAYS * DAY_MS,
    eventsBefore: now - Math.min(EVENT_ID_WINDOW_DAYS, config.RETENTION_DAYS) * DAY_MS,
  };
}

/**
 * Deletes calls and texts older than RETENTION_DAYS (phone numbers are personal data) and event ids past
 * the de-duplication window. Runtime-neutral: the Worker's Cron Trigger and the Node entry's hourly timer
 * both call this.
 */
export async function runRetention(
  deps: Pick<AppDeps, 'db' | 'config' | 'now' | 'logger'>,
): Promise<PurgeResult> {
  const started = deps.now();
  const removed = await purgeExpired(deps.db, retentionCutoffs(deps.config, started));
  deps.logger.info('retention: expired rows deleted', {
    ...removed,
    retentionDays: deps.config.RETENTION_DAYS,
    ms: deps.now() - started,
  });
  return removed;
}
