import type { Config } from '../config.js';
import { findEventResponse, storeEventResponse } from '../db/processed-events.js';
import type { InteractionChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import { describeError } from '../shared/logger.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import type { InteractionRecord } from './interaction-queries.js';
import { toInteractionView } from './interaction-view.js';
import { recordInteractionBatched } from './recorder.js';
import { shouldVerifyCaller, smsTwiml, voiceTwiml } from './twiml.js';

/**
 * The webhook's request path: normalize the caller, match it (with a deadline), record the interaction
 * once, publish it to the agents, answer TwiML. The TwiML never waits on a database that is down or slow:
 * past the deadline the call is routed without a match and the interaction is recorded in the background
 * once the database answers.
 */

/** Hands a promise to the runtime so it may outlive the response (Workers: waitUntil; Node: a tracked promise a shutdown waits for). */
export type Background = (task: Promise<unknown>) => void;

export interface InboundMessage {
  channel: InteractionChannel;
  /** CallSid or MessageSid. */
  sid: string;
  from: string;
  to: string | null;
  stirVerstat: string | null;
  /** Region for national-format callers; DEFAULT_REGION when absent. */
  region?: string;
  /** Twilio's I-Twilio-Idempotency-Token: the same on every retry of one delivery. */
  idempotencyToken?: string;
}

/** processed_events source for Twilio's idempotency tokens. */
export const EVENT_SOURCE = 'twilio';
/** Background retries after a failed write: about two minutes in all, then the interaction is given up. */
export const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000];
/** Background retries in flight, bounded: beyond `max` at once, new ones are given up (and logged). */
export class RetrySlots {
  pending = 0;
  constructor(readonly max: number) {}
  available(): boolean {
    return this.pending < this.max;
  }
}

/** What recordLater is still retrying: the log context (SIDs, masked numbers) and what it would lose. */
const UNFINISHED = new Set<{ gaveUp: string; context: Record<string, unknown> }>();

/** The retries still under way, for a shutdown to say what it leaves unrecorded. */
export function unfinishedRecords(): { gaveUp: string; context: Record<string, unknown> }[] {
  return [...UNFINISHED];
}

/** Bounds the memory a long outage can take: beyond this many pending interactions, new ones are dropped. */
const RECORD_SLOTS = new RetrySlots(1000);

interface Attempt {
  /** Set once the webhook has answered without waiting: the record then says the lookup failed. */
  late: boolean;
  /** What the webhook answered when it could not wait (so an idempotent replay gets the same). */
  answered?: string;
}

type Normalized = ReturnType<typeof normalizePhone>;

/**
 * A call's TwiML names its interaction by CallSid (screen-pop URL, menu and verification steps), not by
 * the interaction's id: the id is made per delivery, and after a fail-open the row may be written by
 * another delivery of the same call (a retry, or the original), so an id in the answer could name a row
 * that never exists. The SID is the same on every delivery, and everything that reads it accepts one.
 */
function renderTwiml(
  config: Config,
  channel: InteractionChannel,
  callSid: string,
  matchCount: number,
): string {
  if (channel === 'sms') return smsTwiml(config);
  return voiceTwiml(config, {
    interactionId: callSid,
    verifyCaller: shouldVerifyCaller(config, matchCount),
  });
}

/** Resolves with the promise's value, or with `timeout` once `ms` pass first. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | { timeout: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<{ timeout: true }>((resolve) => {
    timer = setTimeout(() => resolve({ timeout: true }), ms);
  });
  return Promise.race([promise.then((value) => ({ value })), deadline]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Publishes without holding up the answer; a failing hub is logged, never fatal. */
export function publishInteraction(deps: AppDeps, record: InteractionRecord, background: Background): void {
  const task = deps.hub
    .publish({
      type: 'interaction',
      id: record.id,
      version: record.updatedAt,
      interaction: toInteractionView(record, deps.config),
    })
    .catch((err: unknown) =>
      deps.logger.warn('agent hub publish failed', { interaction: record.id, error: describeError(err) }),
    );
  background(task);
}

async function persist(
  deps: AppDeps,
  message: InboundMessage,
  normalized: Normalized,
  id: string,
  at: number,
  attempt: Attempt,
  background: Background,
): Promise<string> {
  const { db, config } = deps;
  // A text's answer depends on the configuration alone, and its MessageSid already makes the record
  // idempotent: a redelivery (same token, same SID) records nothing and answers the same TwiML without a
  // processed_events row, so none is written (one insert into a randomly keyed index less per text).
  // A call's answer carries the interaction id and its matches, so its token keeps the answer given.
  const token = message.channel === 'voice' ? message.idempotencyToken : undefined;
  // Grouped across requests only where the process outlives them (Node): on Workers each request's
  // waitUntil must cover the write its record is in, so a request's webhook is written on its own.
  const result = await recordInteractionBatched(
    db,
    {
      record: {
        id,
        channel: message.channel,
        twilioSid: message.sid,
        rawFrom: message.from,
        e164: normalized.ok ? normalized.e164 : null,
        fromReason: normalized.ok ? null : normalized.reason,
        toNumber: message.to,
        stirVerstat: message.stirVerstat,
        status: message.channel === 'voice' ? 'ringing' : 'received',
        callerVerification: 'not_attempted',
        createdAt: at,
        updatedAt: at,
      },
      lookupFailed: () => attempt.late,
      now: deps.now,
      token: token ? { source: EVENT_SOURCE, eventId: token } : undefined,
      answer: (matchCount) =>
        attempt.answered ?? renderTwiml(config, message.channel, message.sid, matchCount),
    },
    { shared: deps.backgroundBudgetMs === undefined },
  );
  const { record, created, claimed, firstAnswer } = result;
  if (created) publishInteraction(deps, record, background);
  // A retry (created false) gets the TwiML of the interaction already recorded: its matches.
  const answer = created
    ? firstAnswer
    : (attempt.answered ?? renderTwiml(config, message.channel, message.sid, record.matches.length));
  if (token && !claimed) return (await findEventResponse(db, EVENT_SOURCE, token)) ?? answer;
  if (token && answer !== firstAnswer) await storeEventResponse(db, EVENT_SOURCE, token, answer);
  return answer;
}

/** What recordLater logs; the defaults speak of an inbound interaction. */
export interface RetryMessages {
  afterDeadline: string;
  afterRetry: string;
  gaveUp: string;
}

const RECORD_MESSAGES: RetryMessages = {
  afterDeadline: 'interaction recorded after the deadline',
  afterRetry: 'interaction recorded after the database came back',
  gaveUp: 'interaction not recorded: the database did not come back',
};

/**
 * Keeps trying to record what a webhook answered without; gives up after ~2 minutes (or the delays
 * given). `first` is the attempt already under way; `retry` is called after each delay until it
 * resolves.
 */
export async function recordLater(
  deps: AppDeps,
  first: Promise<unknown>,
  retry: () => Promise<unknown>,
  context: Record<string, unknown>,
  options: { delays?: readonly number[]; messages?: RetryMessages; slots?: RetrySlots } = {},
): Promise<void> {
  const messages = options.messages ?? RECORD_MESSAGES;
  const slots = options.slots ?? RECORD_SLOTS;
  slots.pending += 1;
  const entry = { gaveUp: messages.gaveUp, context };
  UNFINISHED.add(entry);
  // Where the runtime cuts background work off (Workers), the schedule is cut to end inside the budget:
  // a last try at the budget's end rather than a sleep the runtime would cancel silently.
  const budget = deps.backgroundBudgetMs;
  const started = Date.now();
  try {
    let lastError: unknown;
    try {
      await first;
      deps.logger.info(messages.afterDeadline, context);
      return;
    } catch (err) {
      lastError = err;
    }
    for (const delay of options.delays ?? RETRY_DELAYS_MS) {
      const left = budget === undefined ? delay : budget - (Date.now() - started);
      if (left <= 0) break;
      await sleep(Math.min(delay, left));
      try {
        await retry();
        deps.logger.info(messages.afterRetry, context);
        return;
      } catch (err) {
        lastError = err;
      }
    }
    deps.logger.error(messages.gaveUp, {
      ...context,
      error: describeError(lastError),
      triedForMs: Date.now() - started,
      ...(budget === undefined ? {} : { backgroundBudgetMs: budget }),
    });
  } finally {
    slots.pending -= 1;
    UNFINISHED.delete(entry);
  }
}

/**
 * Answers an inbound call or SMS. Never throws for a database problem: that is logged and retried.
 * SMS TwiML depends on config alone, so a text is answered at once and recorded right behind the answer;
 * a call's TwiML carries the interaction id and may depend on the matches, so it waits up to the deadline.
 */
export async function handleInbound(
  deps: AppDeps,
  message: InboundMessage,
  background: Background,
): Promise<string> {
  const { config, logger } = deps;
  const normalized = normalizePhone(message.from, { region: message.region ?? config.DEFAULT_REGION });
  const id = deps.newId();
  const at = deps.now();
  const attempt: Attempt = { late: false };
  const run = () => persist(deps, message, normalized, id, at, attempt, background);
  const context = () => ({
    channel: message.channel,
    sid: message.sid,
    caller: maskPhone(normalized.ok ? normalized.e164 : message.from),
  });

  if (message.channel === 'sms') {
    attempt.answered = smsTwiml(config);
    const first = run();
    background(
      first.then(
        () => undefined,
        (err: unknown) => {
          attempt.late = true;
          logger.warn('index unavailable: text answered, recording retried', {
            ...context(),
            timedOut: false,
            error: describeError(err),
          });
          return scheduleRetry(deps, Promise.reject(err), run, context());
        },
      ),
    );
    return attempt.answered;
  }

  const first = run();
  let failure: { timedOut: boolean; error?: string };
  try {
    const outcome = await withDeadline(first, config.LOOKUP_DEADLINE_MS);
    if ('value' in outcome) return outcome.value;
    failure = { timedOut: true };
  } catch (err) {
    failure = { timedOut: false, error: describeError(err) };
  }

  attempt.late = true;
  attempt.answered = renderTwiml(config, message.channel, message.sid, 0);
  logger.warn('index unavailable: answered without matches', { ...context(), ...failure });
  background(scheduleRetry(deps, first, run, context()));
  return attempt.answered;
}

function scheduleRetry(
  deps: AppDeps,
  first: Promise<unknown>,
  retry: () => Promise<unknown>,
  context: Record<string, unknown>,
): Promise<void> {
  if (!RECORD_SLOTS.available()) {
    deps.logger.error('interaction not recorded: too many pending during the outage', context);
    first.catch(() => {});
    return Promise.resolve();
  }
  return recordLater(deps, first, retry, context);
}
