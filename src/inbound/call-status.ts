import { claimEvent } from '../db/processed-events.js';
import type { AppDeps } from '../deps.js';
import type { Background } from '../shared/background.js';
import { withDeadline } from '../shared/deadline.js';
import { RETRY_DELAYS_MS, type RetryMessages, retryInBackground } from '../shared/retry.js';
import { EVENT_SOURCE, publishInteraction } from './handle-inbound.js';
import { findInteraction } from './interaction-queries.js';
import { advanceCallStatus, CALL_STATUS_RANK } from './recorder-queries.js';

/**
 * The voice status callback: moves an interaction through Twilio's CallStatus values and pushes each
 * change once. Callbacks can arrive late, twice or out of order, so a call never moves backwards and an
 * ended call stays ended. A callback can also arrive before its call is recorded (the call was answered
 * fail-open and its record is still being retried): it is kept and retried until the call appears, and
 * its idempotency token is claimed only once the call is found, so nothing is dropped.
 */

/**
 * How long a callback waits for its call's record: the call's own retries (RETRY_DELAYS_MS, ~2 minutes)
 * plus one more minute, so the last look comes after the call's last attempt to be recorded.
 */
const WAIT_FOR_CALL_DELAYS_MS = [...RETRY_DELAYS_MS, 60_000];
/**
 * Callbacks kept for calls not recorded yet have a retry budget of their own: callbacks for calls that never
 * get recorded must not use up the budget the calls' own records need during an outage.
 */
const WAITING_FOR_CALLS = 'statuses waiting for their call';
const WAITING_MESSAGES: RetryMessages = {
  afterDeadline: 'call status applied',
  afterRetry: 'call status applied once its call was recorded',
  gaveUp: 'call status not applied: its call was never recorded',
};
const RETRIED_MESSAGES: RetryMessages = {
  afterDeadline: 'call status applied after the deadline',
  afterRetry: 'call status applied after the database came back',
  gaveUp: 'call status not applied: the database did not come back',
};

export interface CallStatusUpdate {
  callSid: string;
  /** Set when the callback is for the agent leg of a `<Dial>`: the interaction is the parent call. */
  parentCallSid?: string;
  callStatus: string;
  idempotencyToken?: string;
}

/** The call is not recorded (yet): retried like a failed write, on its own schedule. */
class CallNotRecorded extends Error {
  constructor() {
    super('the call of this status callback is not recorded yet');
  }
}

type Outcome = 'applied' | 'unchanged' | 'not_recorded';

async function applyCallStatus(
  deps: AppDeps,
  update: CallStatusUpdate,
  background: Background,
  checkToken: boolean,
): Promise<Outcome> {
  const { db } = deps;
  if (CALL_STATUS_RANK[update.callStatus] === undefined) return 'unchanged';
  const record =
    (update.parentCallSid ? await findInteraction(db, update.parentCallSid) : undefined) ??
    (await findInteraction(db, update.callSid));
  if (!record) return 'not_recorded';
  // Only Twilio's own redeliveries are screened, and only once the call is found (a token claimed for a
  // call not yet recorded would turn away the redelivery that could still apply). Our background retry
  // after a failed write may follow a claimed token, so it does not check.
  if (checkToken && update.idempotencyToken) {
    const first = await claimEvent(db, EVENT_SOURCE, update.idempotencyToken, deps.now());
    if (!first) return 'unchanged';
  }
  // Callbacks can arrive late, twice or together: a call never moves backwards, and an ended call stays
  // ended. The guard is in the UPDATE itself, so of two concurrent callbacks only a forward move writes.
  const updated = await advanceCallStatus(deps.sql, record.twilioSid, update.callStatus, deps.now());
  if (!updated) return 'unchanged';
  publishInteraction(deps, updated, background);
  return 'applied';
}

/** Keeps the callback until its call is recorded (checked on the retry schedule), then applies it. */
function waitForCall(deps: AppDeps, update: CallStatusUpdate, background: Background): void {
  const context = { sid: update.callSid, parent: update.parentCallSid, status: update.callStatus };
  deps.logger.info('call status for a call not recorded yet: kept until it is', context);
  const attempt = async () => {
    if ((await applyCallStatus(deps, update, background, true)) === 'not_recorded')
      throw new CallNotRecorded();
  };
  background(
    retryInBackground(deps, {
      kind: WAITING_FOR_CALLS,
      first: Promise.reject(new CallNotRecorded()),
      retry: attempt,
      context,
      delays: WAIT_FOR_CALL_DELAYS_MS,
      messages: WAITING_MESSAGES,
    }),
  );
}

/** The voice status callback. Answers at once; a slow or absent database is retried in the background. */
export async function handleCallStatus(
  deps: AppDeps,
  update: CallStatusUpdate,
  background: Background,
): Promise<void> {
  const first = applyCallStatus(deps, update, background, true);
  try {
    const outcome = await withDeadline(first, deps.config.LOOKUP_DEADLINE_MS);
    if ('value' in outcome) {
      if (outcome.value === 'not_recorded') waitForCall(deps, update, background);
      return;
    }
  } catch {
    // Retried below.
  }
  const context = { sid: update.callSid, status: update.callStatus };
  deps.logger.warn('index unavailable: call status queued for retry', context);
  // The first attempt may have claimed the token before failing, so the retries do not check it; a
  // call still not recorded when the database answers is waited for like any other.
  const retry = async () => {
    if ((await applyCallStatus(deps, update, background, false)) === 'not_recorded')
      throw new CallNotRecorded();
  };
  const settled = first.then((outcome) => {
    if (outcome === 'not_recorded') throw new CallNotRecorded();
  });
  background(
    retryInBackground(deps, {
      kind: 'statuses',
      first: settled,
      retry,
      context,
      delays: WAIT_FOR_CALL_DELAYS_MS,
      messages: RETRIED_MESSAGES,
    }),
  );
}
