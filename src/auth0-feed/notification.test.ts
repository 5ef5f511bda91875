import { describe, expect, it } from 'vitest';
import { NOTIFICATION_RETRIES, runNotification } from '../../test/support/auth0-notification.js';

/**
 * The custom-phone-provider stand-in against its page (custom-phone-provider-api-object.mdx, "api.notification"),
 * with handlers that do exactly one thing each, so the driver's own rules are what is tested.
 */

type Api = { notification: { retry: (reason?: string) => void; drop: (reason?: string) => void } };
const handler = (body: (api: Api, run: number) => void) => {
  let run = 0;
  return async (_event: unknown, api?: unknown) => body(api as Api, ++run);
};

describe('api.notification as Auth0 documents it', () => {
  it('considers only the last call of a run', async () => {
    const dropLast = handler((api) => {
      api.notification.retry('first');
      api.notification.drop('second');
    });
    expect(await runNotification(dropLast, {})).toMatchObject({ outcome: 'dropped', runs: 1 });
    const retryLast = handler((api, run) => {
      if (run > 1) return; // the retried run sends
      api.notification.drop('first');
      api.notification.retry('second');
    });
    expect(await runNotification(retryLast, {})).toMatchObject({
      outcome: 'sent',
      runs: 2,
      log: [{ run: 1, method: 'retry', reason: 'second' }],
    });
  });

  it('runs a retried notification again, up to 5 times, logging each failure', async () => {
    const always = handler((api, run) => api.notification.retry(`try ${run}`));
    const result = await runNotification(always, {});
    expect(result.outcome).toBe('gave_up');
    expect(result.runs).toBe(NOTIFICATION_RETRIES + 1);
    expect(result.log.map((l) => l.reason)).toEqual(['try 1', 'try 2', 'try 3', 'try 4', 'try 5', 'try 6']);
  });

  it('logs a drop once, never runs it again, and truncates reasons to 1024 characters', async () => {
    const drop = handler((api) => api.notification.drop('x'.repeat(2000)));
    const result = await runNotification(drop, {});
    expect(result).toMatchObject({ outcome: 'dropped', runs: 1 });
    expect(result.log[0]?.reason).toHaveLength(1024);
  });

  it('treats a throw as the caller chooses: the page does not say', async () => {
    const throws = handler(() => {
      throw new Error('boom');
    });
    expect(await runNotification(throws, {}, { onThrow: 'drop' })).toMatchObject({
      outcome: 'dropped',
      runs: 1,
    });
    expect(await runNotification(throws, {}, { onThrow: 'retry' })).toMatchObject({
      outcome: 'gave_up',
      runs: 6,
    });
  });
});
