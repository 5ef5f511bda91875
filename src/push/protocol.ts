import * as z from 'zod/mini';
import type { AgentIdentity, FeedCursor, PushMessage, Replay, ReplayAudit } from './types.js';

/**
 * The agent socket's frames (documented in `./types.ts`), shared by every hub implementation so the
 * in-process hub and the Durable Object speak exactly the same protocol.
 */

/** Close code when the agent's session has ended: the client stops reconnecting and asks to sign in. */
export const SESSION_ENDED = 4401;
/** Close code: the session is checked again; the console reconnects (and is refused if it ended). */
export const REVALIDATE = 4000;

/** Client frames are tiny; anything bigger is not ours. */
export const MAX_CLIENT_FRAME_BYTES = 1024;

/**
 * A replay cursor on the wire: `"<ms>:<id>"` (after that row, in (updatedAt, id) order: what `synced`
 * hands back) or a time in ms, as a number or a digits-only string (after every row updated at that
 * time or before: what a client computes from the versions it holds). Rows updated in the same
 * millisecond are told apart by id, so a page boundary inside one millisecond skips nothing.
 */
const CURSOR_PATTERN = /^(\d{1,16})(?::([\w-]{1,128}))?$/;

/** Parses a wire cursor; undefined when it is not one. */
export function parseCursor(value: number | string): FeedCursor | undefined {
  if (typeof value === 'number') return isTime(value) ? { at: value } : undefined;
  const match = CURSOR_PATTERN.exec(value);
  const at = Number(match?.[1]);
  if (!match || !isTime(at)) return undefined;
  return match[2] === undefined ? { at } : { at, id: match[2] };
}

/** The wire form of a cursor: `"<ms>:<id>"`, or `"<ms>"` when it has no id. Clients treat it as opaque. */
export function formatCursor(cursor: FeedCursor): string {
  return cursor.id === undefined ? String(cursor.at) : `${cursor.at}:${cursor.id}`;
}

/** How the audit log records a replay's start: the time alone when that is all the cursor holds. */
export function auditedCursor(cursor: FeedCursor): number | string {
  return cursor.id === undefined ? cursor.at : formatCursor(cursor);
}

function isTime(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

const wireCursor = z.union([
  z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER)),
  z.string().check(
    z.maxLength(160),
    z.refine((value) => parseCursor(value) !== undefined),
  ),
]);

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('resume'), since: wireCursor }),
  z.strictObject({ type: z.literal('ping'), t: z.optional(z.number()) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export type ServerFrame =
  | { type: 'hello'; cursor: number; serverTime: number; agent: AgentIdentity }
  | PushMessage
  | { type: 'synced'; cursor: string; more: boolean }
  | { type: 'pong'; t: number | null }
  | { type: 'error'; code: string; message: string };

export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; close?: { code: number; reason: string }; error: ServerFrame };

/** Validates one inbound frame; never throws. Binary and oversized frames ask the caller to close. */
export function parseClientFrame(data: unknown): ParsedFrame {
  if (typeof data !== 'string') {
    return {
      ok: false,
      close: { code: 1003, reason: 'text frames only' },
      error: { type: 'error', code: 'unsupported', message: 'Only JSON text frames are accepted' },
    };
  }
  if (data.length > MAX_CLIENT_FRAME_BYTES) {
    return {
      ok: false,
      close: { code: 1009, reason: 'frame too large' },
      error: { type: 'error', code: 'too_large', message: 'Frame too large' },
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, error: { type: 'error', code: 'bad_json', message: 'Frame is not JSON' } };
  }
  const parsed = clientFrameSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: { type: 'error', code: 'bad_frame', message: 'Unknown or malformed frame' } };
  }
  return { ok: true, frame: parsed.data };
}

export function helloFrame(agent: AgentIdentity, now: number): ServerFrame {
  return { type: 'hello', cursor: now, serverTime: now, agent: { id: agent.id, name: agent.name } };
}

/**
 * What the hub sends back for one valid client frame. A resume answers with the missed interactions
 * (one page) followed by `synced`; the client asks again while `more` is true. Each page is audited
 * (`onReplay`) before it is sent.
 */
export async function answerClientFrame(
  frame: ClientFrame,
  replay: Replay,
  onReplay?: ReplayAudit,
): Promise<ServerFrame[]> {
  if (frame.type === 'ping') return [{ type: 'pong', t: frame.t ?? null }];
  const since = parseCursor(frame.since);
  // The schema accepted it, so it parses; kept as a check rather than an assertion.
  if (!since) return [{ type: 'error', code: 'bad_frame', message: 'Unknown or malformed frame' }];
  const page = await replay(since);
  await onReplay?.({ since: auditedCursor(since), count: page.messages.length, more: page.more });
  return [...page.messages, { type: 'synced', cursor: page.cursor, more: page.more }];
}

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** When and how a socket of this agent is closed next: revalidation, or the session's end. */
export function socketEnd(agent: AgentIdentity): { at: number; code: number; reason: string } | undefined {
  const { expiresAt, revalidateAt } = agent;
  if (revalidateAt !== undefined && (expiresAt === undefined || revalidateAt < expiresAt))
    return { at: revalidateAt, code: REVALIDATE, reason: 'check the session again' };
  if (expiresAt !== undefined) return { at: expiresAt, code: SESSION_ENDED, reason: 'session expired' };
  return undefined;
}
