import { claimEvent, findEventResponse, releaseEvent, storeEventResponse } from '../db/processed-events.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../shared/errors.js';
import { describeError } from '../shared/logger.js';
import { normalizePhone } from '../shared/phone/normalize.js';
import { confirmVerifiedNumber } from '../verify-phone/index.js';
import { decideEnrollment, linkedUserIds, toEnrollmentAnswer } from './enrollment-policy.js';
import type {
  AppliedAnswer,
  Auth0Event,
  ConfirmationAnswer,
  DeliveryAnswer,
  EnrollmentAnswer,
} from './events.js';
import { applyUserLogin, applyUserRegistered } from './lifecycle.js';
import { deliverOtp } from './otp-relay.js';

/**
 * Applies one verified Action callback, exactly once per `webhook-id`. A replay gets the first answer back
 * and changes nothing. Account events are claimed, applied and answered in one transaction; a delivery is
 * claimed first (it calls Twilio, which cannot sit inside a transaction) and its claim is released when the
 * outcome is retryable, so the Action's retry with the same id runs again instead of replaying a failure.
 * Once the outcome is final the claim is never released, even if storing the answer fails: a retry must
 * not send a second code.
 */

export const ACTION_SOURCE = 'auth0-action';

export type FeedAnswer = AppliedAnswer | EnrollmentAnswer | DeliveryAnswer | ConfirmationAnswer;
type FeedDeps = Pick<AppDeps, 'db' | 'config' | 'logger' | 'now' | 'newId' | 'fetch' | 'twilio'>;

function inProgress(): ApiError {
  return new ApiError(409, 'in_progress', 'This webhook-id is still being processed; retry shortly');
}

async function previousAnswer(deps: FeedDeps, webhookId: string): Promise<FeedAnswer | undefined> {
  const previous = await findEventResponse(deps.db, ACTION_SOURCE, webhookId);
  if (previous === undefined) return undefined;
  if (previous === null) throw inProgress();
  return JSON.parse(previous) as FeedAnswer;
}

export async function handleAuth0Event(
  deps: FeedDeps,
  webhookId: string,
  event: Auth0Event,
): Promise<{ answer: FeedAnswer; replayed: boolean }> {
  const replay = await previousAnswer(deps, webhookId);
  if (replay) return { answer: replay, replayed: true };
  const at = event.occurred_at;
  const ctx = { region: deps.config.DEFAULT_REGION };

  if (event.type === 'user.registered' || event.type === 'user.login' || event.type === 'phone.verified') {
    const answer = await deps.db.transaction(async (tx) => {
      if (!(await claimEvent(tx, ACTION_SOURCE, webhookId, deps.now()))) return undefined;
      let result: AppliedAnswer | ConfirmationAnswer;
      if (event.type === 'phone.verified') {
        const outcome = await confirmVerifiedNumber(tx, {
          resultId: event.result_id,
          userId: event.user.user_id,
          e164: event.phone,
          at: deps.now(),
        });
        result = { ok: true, ...outcome };
      } else {
        const applied =
          event.type === 'user.registered'
            ? await applyUserRegistered(tx, event.user, at, ctx)
            : await applyUserLogin(tx, event, at, ctx);
        result = { ok: true, applied };
      }
      await storeEventResponse(tx, ACTION_SOURCE, webhookId, JSON.stringify(result));
      return result;
    });
    if (answer) return { answer, replayed: false };
    // Lost a race with a concurrent delivery of the same id.
    const raced = await previousAnswer(deps, webhookId);
    if (raced) return { answer: raced, replayed: true };
    throw inProgress();
  }

  if (!(await claimEvent(deps.db, ACTION_SOURCE, webhookId, deps.now()))) {
    const raced = await previousAnswer(deps, webhookId);
    if (raced) return { answer: raced, replayed: true };
    throw inProgress();
  }
  let answer: FeedAnswer;
  let retryable = false;
  try {
    if (event.type === 'phone.enrollment_check') {
      const n = normalizePhone(event.phone_number, { region: deps.config.DEFAULT_REGION });
      if (!n.ok) throw new ApiError(400, 'invalid_phone', `phone_number: ${n.message}`);
      const outcome = await decideEnrollment(deps, {
        e164: n.e164,
        userId: event.user.user_id,
        linkedUserIds: linkedUserIds(event.user.identities),
        channel: event.channel ?? null,
        trigger: event.trigger,
        at,
      });
      answer = toEnrollmentAnswer(outcome);
    } else {
      const delivery = await deliverOtp(deps, event);
      retryable = !delivery.delivered && delivery.retryable;
      answer = delivery;
    }
  } catch (err) {
    // Nothing was sent (or the outcome is unknown before Twilio answered): the retry may run again.
    await releaseEvent(deps.db, ACTION_SOURCE, webhookId).catch(() => undefined);
    throw err;
  }
  if (retryable) {
    await releaseEvent(deps.db, ACTION_SOURCE, webhookId);
    return { answer, replayed: false };
  }
  // The outcome is final (a code may have gone out): the claim is kept whatever happens next, so a retry
  // under this id never sends again. Storing the answer is best-effort; without it a retry gets 409.
  try {
    await storeEventResponse(deps.db, ACTION_SOURCE, webhookId, JSON.stringify(answer));
  } catch (err) {
    deps.logger.error('auth0 event answer not stored; the claim stays, a retry gets 409', {
      webhookId,
      type: event.type,
      error: describeError(err),
    });
  }
  return { answer, replayed: false };
}
