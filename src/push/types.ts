import type { Context } from 'hono';

/**
 * Pushes interaction updates to signed-in agents. Two implementations behind one seam:
 * - `src/push/memory-hub.ts`: in-process, for the Node entry (one process holds every socket);
 * - a Durable Object on Workers (hibernating WebSockets): `connect` forwards the upgrade request to the
 *   object (`stub.fetch(c.req.raw)`), which accepts it with `ctx.acceptWebSocket` and answers frames with
 *   the same protocol helpers (`src/push/protocol.ts`).
 *
 * The `/agent/socket` route authenticates the agent (session cookie + Origin check) and then calls
 * `hub.connect(c, agent)`; it never touches a runtime-specific WebSocket API itself.
 *
 * Frame protocol (JSON text frames; see `src/push/protocol.ts` for the zod schemas):
 *   server → client
 *     { type: 'hello', cursor, serverTime, agent: { id, name } }    on open; cursor = server time (ms)
 *     { type: 'interaction', id, version, interaction }             a PushMessage, live or replayed
 *     { type: 'synced', cursor, more }                              end of one replay page; cursor is an
 *                                                                   opaque string ("<ms>:<id>") to resume from
 *     { type: 'pong', t }                                           answer to ping, echoes t
 *     { type: 'error', code, message }                              a frame was refused (the socket stays)
 *   client → server (every frame validated with zod; binary or oversized frames close the socket, 1003/1009)
 *     { type: 'resume', since }     replay interactions changed after `since`, oldest first, in pages of
 *                                   (updatedAt, id) order; `since` is a time in ms or a `synced` cursor
 *     { type: 'ping', t? }          keep-alive; clients send one every 25 s and reconnect if no pong comes
 *
 * Delivery: at-least-once with client-side de-duplication. The app publishes only when an interaction is
 * created or changes (a retried Twilio webhook publishes nothing); clients keep the highest `version` per
 * `id` and drop repeats, so a replay that overlaps live frames is harmless. A reconnecting client resumes
 * from (newest version it holds − a few seconds of slack), which also covers writes committed out of
 * clock order. Replays read the database (the source of truth), so they survive a hub restart.
 */
export interface PushMessage {
  type: 'interaction';
  /** The callerpop interaction id. */
  id: string;
  /** Monotonic per interaction (its updatedAt), so clients can drop stale or repeated frames. */
  version: number;
  /** The interaction view, as `GET /api/interactions/:sid` returns it. */
  interaction: unknown;
}

/** Who is on the other end of a socket (from the agent's session). */
export interface AgentIdentity {
  /** Stable id: `token:admin` for the sign-in link, `oidc:{sub}` for OpenID Connect agents. */
  id: string;
  name: string;
  /** When the agent's session ends (ms): hubs close the socket then (code 4401), so a signed-out agent stops receiving pops. */
  expiresAt?: number;
  /** The session's random id: signing out closes that session's sockets, not the agent's other ones. */
  session?: string;
  /**
   * When the socket is closed to be checked again (ms): code 4000 (REVALIDATE), after which the console
   * reconnects and the session is asked again (revoked, role removed → the upgrade is refused).
   */
  revalidateAt?: number;
}

/**
 * Where a replay starts: after the row (`at`, `id`) in (updatedAt, id) order, or, without `id`, after
 * every row updated at `at` or before. Wire form in `./protocol.ts` (`parseCursor`/`formatCursor`).
 */
export interface FeedCursor {
  at: number;
  id?: string;
}

/** A page of missed interactions for a reconnecting client (see `src/push/replay.ts`). */
export interface ReplayPage {
  messages: PushMessage[];
  /** Resume from here for the next page (the wire form: opaque to clients). */
  cursor: string;
  more: boolean;
}

export type Replay = (since: FeedCursor) => Promise<ReplayPage>;

/**
 * Records one replay page an agent is about to receive (the audit log): reading history in bulk is an
 * access like a pop view. Awaited before the page is sent; if it fails, the page is not served.
 */
export type ReplayAudit = (page: { since: number | string; count: number; more: boolean }) => Promise<void>;

export interface AgentHub {
  /** Fans one message out to every connected agent. Never throws for a dead socket. */
  publish(message: PushMessage): Promise<void>;
  /**
   * Accepts the WebSocket upgrade in `c` for an already-authenticated agent and returns the 101 response
   * (or an error response when the request is not an upgrade).
   */
  connect(c: Context, agent: AgentIdentity, onReplay?: ReplayAudit): Promise<Response> | Response;
  /** Closes the sockets of one session (sign-out) with 4401. Never throws. */
  endSession?(sessionId: string): Promise<void>;
}

/** A hub that drops everything: for tools (backfill, seed) that build the app without agents. */
export const nullHub: AgentHub = {
  publish: async () => {},
  connect: (c) =>
    c.json(
      {
        error: {
          code: 'unavailable',
          message: 'Live push is not available here',
          requestId: c.get('requestId') ?? 'unknown',
        },
      },
      503,
    ),
};
