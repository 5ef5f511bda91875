import { claimEvent, findInteraction, updateInteraction } from '../db/interactions.js';
import type { AppDeps } from '../deps.js';
import { type Background, EVENT_SOURCE, publishInteraction, recordLater, withDeadline } from './inbound.js';

/**
 * The voice status callback: moves an interaction through Twilio's CallStatus values and pushes each
 * change once. Callbacks can arrive late, twice or out of order, so a call never moves backwards and an
 * ended call stays ended.
 */

/** Twilio's CallStatus values, in the order a call moves through them; the last five all end it. */
const STATUS_RANK: Record<string, number> = {
  queued: 0,
  ringing: 1,
  'in-progress': 2,
  completed: 3,
  busy: 3,
  failed: 3,
  'no-answer': 3,
  canceled: 3,
};

export interface CallStatusUpdate {
  callSid: string;
  /** Set when the callback is for the agent leg of a `<Dial>`: the interaction is the parent call. */
  parentCallSid?: string;
  callStatus: string;
  idempotencyToken?: string;
}

async function applyCallStatus(
  deps: AppDeps,
  update: CallStatusUpdate,
  background: Background,
  checkToken: boolean,
): Promise<void> {
  const { db } = deps;
  const rank = STATUS_RANK[update.callStatus];
  if (rank === undefined) return;
  // Only Twilio's own redeliveries are screened: our background retry may follow a claimed token.
  if (checkToken && update.idempotencyToken) {
    const first = await claimEvent(db, EVENT_SOURCE, update.idempotencyToken, deps.now());
    if (!first) return;
  }
  const record =
    (update.parentCallSid ? await findInteraction(db, update.parentCallSid) : undefined) ??
    (await findInteraction(db, update.callSid));
  if (!record) return;
  // Callbacks can arrive late or twice: a call never moves backwards, and an ended call stays ended.
  if (rank <= (STATUS_RANK[record.status] ?? -1)) return;
  const updated = await updateInteraction(db, record.twilioSid, { status: update.callStatus }, deps.now());
  if (updated) publishInteraction(deps, updated, background);
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
    if ('value' in outcome) return;
  } catch {
    // Retried below.
  }
  const context = { sid: update.callSid, status: update.callStatus };
  deps.logger.warn('index unavailable: call status queued for retry', context);
  background(recordLater(deps, first, () => applyCallStatus(deps, update, background, false), context));
}
