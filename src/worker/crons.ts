/**
 * The Worker's Cron Triggers (wrangler.toml `[triggers] crons`), by what each runs; `scheduled` dispatches on
 * `controller.cron`, which is the pattern as written there (src/worker/crons.test.ts keeps the two equal).
 */

/** Retention: interactions past RETENTION_DAYS, hourly at :17 (off the top of the hour). */
export const RETENTION_CRON = '17 * * * *';

/** The Auth0 log catch-up (GET /api/v2/logs from its cursor), every ten minutes. */
export const LOG_CATCH_UP_CRON = '*/10 * * * *';
