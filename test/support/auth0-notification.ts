/**
 * Auth0's side of the custom-phone-provider trigger's `api.notification`, as auth0/docs-v2
 * main/docs/actions/reference/custom-phone-provider/custom-phone-provider-api-object.mdx ("api.notification")
 * describes it:
 *  - "If several calls are made, only the last one is considered."
 *  - drop(reason): "considered failed without recovery: We will log an error for this event, but won't be
 *    sending it again to the action in the future."
 *  - retry(reason): "considered failed, but recoverable: We will log an error for this event, but we will
 *    retry it up to 5 times in the next minutes."
 *  - reason: "limited to 1024 characters and will be truncated if larger."
 * Not documented, so the caller chooses or the driver says so: what a thrown error means (`onThrow`); that a
 * run calling neither method counts as sent (the methods exist to report failure); that nothing follows the
 * fifth retry (given up). "In the next minutes": `beforeRetry` may move a test clock; the driver never waits.
 */

/** One run's api, "api.notification" and "api.cache"; records the calls (last() is the one that counts). */
export function customPhoneProviderApi() {
  const calls: { method: 'retry' | 'drop'; reason: string | undefined }[] = [];
  return {
    calls,
    last: () => calls.at(-1),
    api: {
      notification: {
        retry: (reason?: string) => calls.push({ method: 'retry', reason }),
        drop: (reason?: string) => calls.push({ method: 'drop', reason }),
      },
      cache: { get: () => undefined, set: () => ({ type: 'success' }), delete: () => ({ type: 'success' }) },
    },
  };
}

/** "retry it up to 5 times". */
export const NOTIFICATION_RETRIES = 5;
/** "limited to 1024 characters and will be truncated if larger". */
export const REASON_MAX_CHARS = 1024;

export interface NotificationLogEntry {
  run: number;
  /** "We will log an error for this event". */
  level: 'error';
  method: 'retry' | 'drop';
  reason: string;
}

export interface NotificationOutcome {
  outcome: 'sent' | 'dropped' | 'gave_up';
  runs: number;
  log: NotificationLogEntry[];
  /** Errors the Action threw (callerpop's never should: the coding guidelines ask for api methods instead). */
  threw: unknown[];
}

type Handler = (event: unknown, api?: unknown) => Promise<void>;

/** Runs one notification event as Auth0 would: again after retry(), at most NOTIFICATION_RETRIES times. */
export async function runNotification(
  handler: Handler,
  event: unknown,
  options: { onThrow?: 'retry' | 'drop'; beforeRetry?: (run: number) => void | Promise<void> } = {},
): Promise<NotificationOutcome> {
  const log: NotificationLogEntry[] = [];
  const threw: unknown[] = [];
  for (let run = 1; ; run++) {
    const { api, last } = customPhoneProviderApi();
    let verdict = undefined as { method: 'retry' | 'drop'; reason: string | undefined } | undefined;
    try {
      await handler(event, api);
      verdict = last();
    } catch (err) {
      threw.push(err);
      verdict = {
        method: options.onThrow ?? 'drop',
        reason: err instanceof Error ? err.message : String(err),
      };
    }
    if (!verdict) return { outcome: 'sent', runs: run, log, threw };
    log.push({
      run,
      level: 'error',
      method: verdict.method,
      reason: String(verdict.reason ?? '').slice(0, REASON_MAX_CHARS),
    });
    if (verdict.method === 'drop') return { outcome: 'dropped', runs: run, log, threw };
    if (run > NOTIFICATION_RETRIES) return { outcome: 'gave_up', runs: run, log, threw };
    await options.beforeRetry?.(run);
  }
}
