import type { LogObject } from './auth0-log-fixtures.js';

/**
 * Auth0's side of a Log Stream custom webhook, as its documentation describes it. Pages are in auth0/docs-v2:
 * `STREAMS` = main/docs/customize/log-streams.mdx, `CUSTOM` = main/docs/customize/log-streams/custom-log-streams.mdx.
 *
 * - One POST per delivery to the Payload URL, the Authorization Token as the `Authorization` header
 *   (CUSTOM, "Configure log stream": "(Optional) The value in the Authorization header of the request"), the
 *   configured Content Type.
 * - At least once; each delivery "up to three times"; then "we log an error visible in the Health view" and
 *   "restart this process for any errored log until the problem is resolved" (STREAMS, "Delivery attempts").
 *   `health` collects those errors and `restartErrored()` is the restart.
 * - Not in order ("logs may not display in the exact order in which they occurred", STREAMS, callout).
 *
 * What the pages leave open is a `StreamReading`, and the tests run under each:
 * - `format`: "JSON lines, arrays, or objects" (CUSTOM); no page shows an array or object body. An object
 *   body may be one item per request or an object keyed by position.
 * - `shape`: the schema describes the bare log object (`log_id` at its top); streams have been captured
 *   sending `{ log_id, data: { … } }`. Auth0 does not document which.
 */

export type StreamFormat = 'jsonlines' | 'jsonarray' | 'jsonobject' | 'jsonobject keyed';
export type ItemShape = 'wrapped' | 'bare';
export interface StreamReading {
  format: StreamFormat;
  shape: ItemShape;
}

export const STREAM_READINGS: readonly StreamReading[] = (
  ['jsonlines', 'jsonarray', 'jsonobject', 'jsonobject keyed'] as const
).flatMap((format) => (['wrapped', 'bare'] as const).map((shape) => ({ format, shape })));

/** Sends one request; tests pass the app (in process) or a real HTTP client. */
export type Send = (body: string, headers: Record<string, string>) => Response | Promise<Response>;

export interface Delivery {
  status: number;
  attempts: number;
  summary?: unknown;
}

export class FakeLogStream {
  /** Errors logged after a delivery's third failed attempt (the stream's Health view). */
  readonly health: string[] = [];
  /** Batches that failed three times, waiting for `restartErrored()`. */
  readonly errored: LogObject[][] = [];

  constructor(
    private readonly send: Send,
    private readonly options: { token: string; reading: StreamReading; contentType?: string },
  ) {}

  item(log: LogObject): unknown {
    return this.options.reading.shape === 'wrapped' ? { log_id: log.log_id, data: log } : log;
  }

  /** The bodies one delivery of these events takes: an object body carries one item per request. */
  bodies(logs: readonly LogObject[]): string[] {
    const items = logs.map((l) => this.item(l));
    switch (this.options.reading.format) {
      case 'jsonlines':
        return [`${items.map((i) => JSON.stringify(i)).join('\n')}\n`];
      case 'jsonarray':
        return [JSON.stringify(items)];
      case 'jsonobject':
        return items.map((i) => JSON.stringify(i));
      case 'jsonobject keyed':
        return [JSON.stringify(Object.fromEntries(items.map((i, n) => [String(n), i])))];
    }
  }

  /** Delivers a batch, up to three attempts; a batch failing all three is logged and kept for a restart. */
  async deliver(logs: readonly LogObject[]): Promise<Delivery> {
    let last: Delivery = { status: 0, attempts: 0 };
    for (const body of this.bodies(logs)) last = await this.deliverBody(body);
    if (last.status < 200 || last.status >= 300) {
      this.health.push(`delivery failed ${last.attempts} times: HTTP ${last.status}`);
      this.errored.push([...logs]);
    }
    return last;
  }

  /** Sends a raw body (a test's own malformed content) with the same three attempts. */
  async deliverBody(body: string): Promise<Delivery> {
    const headers = {
      'content-type': this.options.contentType ?? 'application/json',
      authorization: this.options.token,
    };
    let delivery: Delivery = { status: 0, attempts: 0 };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const res = await this.send(body, headers);
      delivery = { status: res.status, attempts: attempt, summary: await res.json().catch(() => undefined) };
      if (res.ok) break;
    }
    return delivery;
  }

  /** "We restart this process for any errored log until the problem is resolved." */
  async restartErrored(): Promise<Delivery[]> {
    const batches = this.errored.splice(0);
    const out: Delivery[] = [];
    for (const batch of batches) out.push(await this.deliver(batch));
    return out;
  }
}
