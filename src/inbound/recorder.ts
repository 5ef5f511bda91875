import type { SqlRunner } from '../db/sql-runner.js';
import { rankLinks } from '../phone-index/index.js';
import { retryingBusy } from '../shared/retry.js';
import type { InteractionRecord } from './interaction-queries.js';
import {
  type EventClaim,
  findInteractionsBySids,
  findLinksForNumbers,
  insertWebhookInteractions,
} from './recorder-queries.js';

/**
 * Group commit for webhooks: the ones that arrive together are matched with one lookup and recorded
 * with one multi-row write (plus their idempotency tokens) in one transaction. Each caller still gets its
 * own answer: the stored record, whether it created it, whether it claimed its token. Under load this
 * turns N lookups and 2N commits into one of each; alone, a webhook waits BATCH_WINDOW_MS.
 */

export interface RecordRequest {
  /** The interaction as this delivery would record it; matches and flags are filled in here. */
  record: Omit<InteractionRecord, 'matches' | 'flags'>;
  /** Asked after the lookup: did the webhook answer without waiting? The record says so (flags.lookupFailed). */
  lookupFailed: () => boolean;
  /** Twilio's idempotency token, claimed with the answer this delivery gives. */
  token?: { source: string; eventId: string };
  /** The TwiML this delivery answers if it is the first (the same whatever the matches). */
  answer: () => string;
  /**
   * The clock: the record's updatedAt is the time of the write that stores it, not the webhook's arrival
   * (createdAt), which a fail-open may put minutes earlier. A console catching up from its last version
   * would otherwise skip a row committed after it with an older updatedAt.
   */
  now?: () => number;
}

export interface RecordResult {
  /** The stored interaction (for a retry: the one the first delivery recorded). */
  record: InteractionRecord;
  created: boolean;
  /** The token was new (false also when no token was given). */
  claimed: boolean;
  /** What this delivery's answer was computed as, before knowing whether it was first. */
  firstAnswer: string;
}

interface Pending {
  request: RecordRequest;
  resolve: (result: RecordResult) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;
/**
 * How long the first webhook of a batch waits for others. A call's answer waits this long at most (far
 * inside Twilio's 15 s); a text's answer does not wait at all. Longer windows commit more rows at once.
 */
const BATCH_WINDOW_MS = 10;
class Recorder {
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly sql: SqlRunner) {}

  record(request: RecordRequest): Promise<RecordResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.timer ??= setTimeout(() => this.drain(), BATCH_WINDOW_MS);
    });
  }

  /** Writes what is waiting in the window now (a shutdown does not wait for the window). */
  drain() {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.flush(batch).catch((err: unknown) => {
        for (const p of batch) p.reject(err);
      });
    }
  }

  private async flush(batch: Pending[]) {
    const numbers = [
      ...new Set(batch.flatMap((p) => (p.request.record.e164 ? [p.request.record.e164] : []))),
    ];
    const links = await findLinksForNumbers(this.sql, numbers);

    // Another writer holding the lock is waited out (retryingBusy); built again on each try of a write that
    // found the database locked: meanwhile a call may have
    // been answered at its deadline, and its record and token must say what it was answered.
    const { built, firstBySid, created, claimed } = await retryingBusy(async () => {
      const built = batch.map((p) => {
        const { record: base, lookupFailed } = p.request;
        const match = base.e164 ? rankLinks(base.e164, links.get(base.e164) ?? []) : undefined;
        const record: InteractionRecord = {
          ...base,
          updatedAt: Math.max(base.createdAt, p.request.now?.() ?? base.updatedAt),
          matches: match?.matches ?? [],
          flags: {
            ...(match?.sharedLine ? { sharedLine: true } : {}),
            ...(match?.policyWarning ? { policyWarning: true } : {}),
            ...(lookupFailed() ? { lookupFailed: true } : {}),
          },
        };
        return { pending: p, record, firstAnswer: p.request.answer() };
      });

      // Only the first of a SID or a token within the batch is written; the others see it as a retry.
      const firstBySid = new Map<string, (typeof built)[number]>();
      const claims: EventClaim[] = [];
      const claimedIds = new Set<string>();
      for (const item of built) {
        if (!firstBySid.has(item.record.twilioSid)) firstBySid.set(item.record.twilioSid, item);
        const token = item.pending.request.token;
        if (token && !claimedIds.has(token.eventId)) {
          claimedIds.add(token.eventId);
          claims.push({ ...token, response: item.firstAnswer, at: item.record.createdAt });
        }
      }
      const records = [...firstBySid.values()].map((i) => i.record);
      const written = await insertWebhookInteractions(this.sql, records, claims);
      return { built, firstBySid, ...written };
    });

    const missing = [...firstBySid.keys()].filter((sid) => !created.has(sid));
    const existing = await findInteractionsBySids(this.sql, missing);
    const claimOwners = new Set<string>();
    for (const item of built) {
      const sid = item.record.twilioSid;
      const first = firstBySid.get(sid) === item;
      const isCreator = first && created.has(sid);
      const stored = created.has(sid) ? firstBySid.get(sid)?.record : existing.get(sid);
      const token = item.pending.request.token;
      const ownsClaim = token !== undefined && claimed.has(token.eventId) && !claimOwners.has(token.eventId);
      if (ownsClaim && token) claimOwners.add(token.eventId);
      if (!stored) {
        item.pending.reject(new Error('interaction vanished between insert and read'));
        continue;
      }
      item.pending.resolve({
        record: stored,
        created: isCreator,
        claimed: ownsClaim,
        firstAnswer: item.firstAnswer,
      });
    }
  }
}

/** The group commit of one set of deps (its batching state belongs to them, not to the module). */
export interface InteractionRecorder {
  record(request: RecordRequest): Promise<RecordResult>;
  /** Starts the group commit of whatever waits in the batch window now, instead of at the window's end. */
  drain(): void;
}

/**
 * With `shared: false` each webhook is written at once in a batch of its own: on Workers a batch shared by
 * several requests would run its I/O in the request that opened the window, and be cancelled with that
 * request's waitUntil.
 */
export function createInteractionRecorder(sql: SqlRunner, options: { shared: boolean }): InteractionRecorder {
  const recorder = new Recorder(sql);
  return {
    record(request) {
      if (options.shared) return recorder.record(request);
      const own = new Recorder(sql);
      const result = own.record(request);
      own.drain();
      return result;
    },
    drain: () => recorder.drain(),
  };
}
