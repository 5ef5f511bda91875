import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { type InteractionRecord, listInteractionsUpdatedSince } from '../db/interactions.js';
import type { PushMessage, ReplayPage } from '../hub/types.js';
import { toInteractionView } from './interaction-view.js';

/** Rows per replay page: a long outage is caught up in several round trips, never one huge frame. */
export const REPLAY_PAGE_SIZE = 200;

export function toPushMessage(
  record: InteractionRecord,
  config: Pick<Config, 'PUBLIC_BASE_URL'>,
): PushMessage {
  return {
    type: 'interaction',
    id: record.id,
    version: record.updatedAt,
    interaction: toInteractionView(record, config),
  };
}

/**
 * Interactions changed after `since`, oldest first, for a reconnecting agent (over the socket's `resume`
 * or `GET /agent/api/since`). Pages overlap by one millisecond so rows sharing the boundary's timestamp
 * are not skipped; clients de-duplicate by id and version.
 */
export async function replayChangesSince(
  db: Db,
  config: Pick<Config, 'PUBLIC_BASE_URL'>,
  since: number,
  pageSize = REPLAY_PAGE_SIZE,
): Promise<ReplayPage> {
  const rows = await listInteractionsUpdatedSince(db, since, pageSize);
  const last = rows.at(-1);
  const first = rows[0];
  const more = rows.length === pageSize;
  let cursor = last ? last.updatedAt : since;
  // Step back one ms so the boundary's siblings come again, unless the whole page shares one timestamp
  // (then stepping back would loop forever).
  if (more && last && first && last.updatedAt > first.updatedAt) cursor = last.updatedAt - 1;
  return { messages: rows.map((row) => toPushMessage(row, config)), cursor, more };
}
