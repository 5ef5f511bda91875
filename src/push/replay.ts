import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { type InteractionRecord, listInteractionsUpdatedSince, toInteractionView } from '../inbound/index.js';
import { formatCursor } from './protocol.js';
import type { FeedCursor, PushMessage, ReplayPage } from './types.js';

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
 * Interactions changed after `since`, oldest first in (updatedAt, id) order, for a reconnecting agent
 * (over the socket's `resume` or `GET /agent/api/since`). The next page starts after the last row sent,
 * id included, so a page boundary among rows sharing one millisecond neither skips nor repeats any.
 */
export async function replayChangesSince(
  db: Db,
  config: Pick<Config, 'PUBLIC_BASE_URL'>,
  since: FeedCursor | number,
  pageSize = REPLAY_PAGE_SIZE,
): Promise<ReplayPage> {
  const from: FeedCursor = typeof since === 'number' ? { at: since } : since;
  const rows = await listInteractionsUpdatedSince(db, from, pageSize);
  const last = rows.at(-1);
  return {
    messages: rows.map((row) => toPushMessage(row, config)),
    cursor: formatCursor(last ? { at: last.updatedAt, id: last.id } : from),
    more: rows.length === pageSize,
  };
}
