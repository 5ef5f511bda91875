import { and, eq } from 'drizzle-orm';
import type { Writer } from './client.js';
import { processedEvents } from './schema.js';

/**
 * Idempotency for everything that may be delivered twice: Twilio's idempotency tokens, the Actions'
 * webhook-ids, Log Stream log ids. A claim is a row; its response is what the first delivery answered.
 */

/** True the first time an id is seen for a source; false for every redelivery. */
export async function claimEvent(
  w: Writer,
  source: string,
  eventId: string,
  at: number,
  response?: string,
): Promise<boolean> {
  const rows = await w
    .insert(processedEvents)
    .values({ source, eventId, receivedAt: at, response: response ?? null })
    .onConflictDoNothing()
    .returning({ eventId: processedEvents.eventId });
  return rows.length > 0;
}

/** What the first delivery answered: undefined when the id is unknown, null when nothing was stored. */
export async function findEventResponse(
  w: Writer,
  source: string,
  eventId: string,
): Promise<string | null | undefined> {
  const rows = await w
    .select({ response: processedEvents.response })
    .from(processedEvents)
    .where(and(eq(processedEvents.source, source), eq(processedEvents.eventId, eventId)))
    .limit(1);
  return rows[0]?.response;
}

export async function storeEventResponse(w: Writer, source: string, eventId: string, response: string) {
  await w
    .update(processedEvents)
    .set({ response })
    .where(and(eq(processedEvents.source, source), eq(processedEvents.eventId, eventId)));
}

/** Forgets a claim whose processing failed, so a retry with the same id is processed again. */
export async function releaseEvent(w: Writer, source: string, eventId: string) {
  await w
    .delete(processedEvents)
    .where(and(eq(processedEvents.source, source), eq(processedEvents.eventId, eventId)));
}
