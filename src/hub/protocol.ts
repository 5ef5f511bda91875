import * as z from 'zod/mini';
import type { AgentIdentity, PushMessage, Replay, ReplayAudit } from './types.js';

/**
 * The agent socket's frames (documented in `./types.ts`), shared by every hub implementation so the
 * in-process hub and the Durable Object speak exactly the same protocol.
 */

/** Close code when the agent's session has ended: the client stops reconnecting and asks to sign in. */
export const SESSION_ENDED = 4401;

/** Client frames are tiny; anything bigger is not ours. */
export const MAX_CLIENT_FRAME_BYTES = 1024;

const cursor = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('resume'), since: cursor }),
  z.strictObject({ type: z.literal('ping'), t: z.optional(z.number()) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export type ServerFrame =
  | { type: 'hello'; cursor: number; serverTime: number; agent: AgentIdentity }
  | PushMessage
  | { type: 'synced'; cursor: number; more: boolean }
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
  const page = await replay(frame.since);
  await onReplay?.({ since: frame.since, count: page.messages.length, more: page.more });
  return [...page.messages, { type: 'synced', cursor: page.cursor, more: page.more }];
}

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}
