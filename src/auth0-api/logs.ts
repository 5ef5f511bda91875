import { LogsClient } from 'auth0/logs';
import type { ManagementApi } from './management.js';

/**
 * Tenant logs through `GET /api/v2/logs` (main/docs/deploy-monitor/logs/retrieve-log-events-using-mgmt-api.mdx):
 * - by checkpoint, `from=<log_id>&take=<n>`: "logs newer than a given `log_id`", "ordered by the `log_id`",
 *   "A JSON array of `0` to `100` logs", an empty array when none is newer; "Any parameter other than `from`
 *   and `take` will be ignored";
 * - by search criteria, for the newest event (`sort=date:-1`, one per page).
 * The SDK's `logs.list` has no `from`/`take` (they go in as extra query parameters) and always adds
 * page/per_page/include_totals, which the checkpoint ignores; its Page then looks for `logs` in an object and
 * finds none in the bare array, so the array is read from the raw answer.
 */

export interface LogReader {
  /** The events after `from`, in log_id order (at most `take`, ≤ 100). */
  after(from: string, take: number): Promise<unknown[]>;
  /** The newest event's log_id; undefined while the tenant has none. */
  newest(): Promise<string | undefined>;
}

export function createLogReader(api: ManagementApi): LogReader {
  const logs = new LogsClient(api.clientOptions);
  return {
    async after(from, take) {
      const page = await logs.list({}, { queryParams: { from, take } });
      const body: unknown = page.response;
      if (!Array.isArray(body)) throw new Error('GET /api/v2/logs?from= did not answer a JSON array');
      return body;
    },
    async newest() {
      const page = await logs.list({ page: 0, per_page: 1, sort: 'date:-1' });
      const body: unknown = page.response;
      const first: unknown = Array.isArray(body) ? body[0] : page.data[0];
      const id = (first as { log_id?: unknown } | undefined)?.log_id;
      return typeof id === 'string' && id !== '' ? id : undefined;
    },
  };
}
