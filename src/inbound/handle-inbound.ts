import { findEventResponse, storeEventResponse } from '../db/processed-events.js';
import type { InteractionChannel } from '../db/schema.js';
import type { AppDeps } from '../deps.js';
import type { Background } from '../shared/background.js';
import { withDeadline } from '../shared/deadline.js';
import { describeError } from '../shared/logger.js';
import { maskPhone, normalizePhone } from '../shared/phone/normalize.js';
import { type RetryMessages, retryInBackground } from '../shared/retry.js';
import type { InteractionRecord } from './interaction-queries.js';
import { toInteractionView } from './interaction-view.js';
import type { InboundAnswers } from './twiml.js';

/**
 * The webhook's request path: normalize the caller, match it (with a deadline), record the interaction
 * once, publish it to the agents, answer TwiML. The TwiML never waits on a database that is down or slow:
 * past the deadline the call is routed without a match and the interaction is recorded in the background
 * once the database answers.
 */

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

interface Attempt {
  /** Set once the webhook has answered without waiting: the record then says the lookup failed. */
  late: boolean;
  /** What the webhook answered when it could not wait (so an idempotent replay gets the same). */
  answered?: string;
}

type Normalized = ReturnType<typeof normalizePhone>;

function renderTwiml(answers: InboundAnswers, channel: InteractionChannel, sid: string) {
  return channel === 'sms' ? answers.sms : answers.voice(sid);
}

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
  answers: InboundAnswers,
  message: InboundMessage,
  normalized: Normalized,
  id: string,
  at: number,
  attempt: Attempt,
  background: Background,
): Promise<string> {
  const { db } = deps;
  // A text's answer depends on the configuration alone, and its MessageSid already makes the record
  // idempotent: a redelivery (same token, same SID) records nothing and answers the same TwiML without a
  // processed_events row, so none is written (one insert into a randomly keyed index less per text).
  // A call's answer carries the interaction id and its matches, so its token keeps the answer given.
  const token = message.channel === 'voice' ? message.idempotencyToken : undefined;
  // Grouped across requests only where the process outlives them (Node): on Workers each request's
  // waitUntil must cover the write its record is in, so a request's webhook is written on its own.
  const result = await deps.recorder.record({
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
    answer: () => attempt.answered ?? renderTwiml(answers, message.channel, message.sid),
  });
  const { record, created, claimed, firstAnswer } = result;
  if (created) publishInteraction(deps, record, background);
  // A retry (created false) gets the TwiML of the interaction already recorded.
  const answer = created
    ? firstAnswer
    : (attempt.answered ?? renderTwiml(answers, message.channel, message.sid));
  if (token && !claimed) return (await findEventResponse(db, EVENT_SOURCE, token)) ?? answer;
  if (token && answer !== firstAnswer) await storeEventResponse(db, EVENT_SOURCE, token, answer);
  return answer;
}

const RECORD_MESSAGES: RetryMessages = {
  afterDeadline: 'interaction recorded after the deadline',
  afterRetry: 'interaction recorded after the database came back',
  gaveUp: 'interaction not recorded: the database did not come back',
};

/**
 * Answers an inbound call or SMS. Never throws for a database problem: that is logged and retried.
 * SMS TwiML depends on config alone, so a text is answered at once and recorded right behind the answer;
 * a call's TwiML carries the interaction id and may depend on the matches, so it waits up to the deadline.
 */
export async function handleInbound(
  deps: AppDeps,
  answers: InboundAnswers,
  message: InboundMessage,
  background: Background,
): Promise<string> {
  const { config, logger } = deps;
  const normalized = normalizePhone(message.from, { region: message.region ?? config.DEFAULT_REGION });
  const id = deps.newId();
  const at = deps.now();
  const attempt: Attempt = { late: false };
  const run = () => persist(deps, answers, message, normalized, id, at, attempt, background);
  const context = () => ({
    channel: message.channel,
    sid: message.sid,
    caller: maskPhone(normalized.ok ? normalized.e164 : message.from),
  });

  if (message.channel === 'sms') {
    attempt.answered = answers.sms;
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
  attempt.answered = renderTwiml(answers, message.channel, message.sid);
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
  return retryInBackground(deps, { kind: 'interactions', first, retry, context, messages: RECORD_MESSAGES });
}
