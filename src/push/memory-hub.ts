import type { Context } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { Logger } from '../shared/logger.js';
import {
  answerClientFrame,
  encodeFrame,
  helloFrame,
  parseClientFrame,
  SESSION_ENDED,
  type ServerFrame,
  socketEnd,
} from './protocol.js';
import type { AgentHub, AgentIdentity, PushMessage, Replay, ReplayAudit } from './types.js';

/**
 * The in-process hub: every agent socket lives in this process, so publishing is a loop over a set.
 * Runtime-neutral: the entry passes its runtime's `upgradeWebSocket` (Node: `@hono/node-server`).
 */
export interface MemoryHub extends AgentHub {
  /** Connected sockets right now. */
  size(): number;
  /** Closes every socket (shutdown; tests use it to simulate a server-side drop). */
  disconnectAll(code?: number, reason?: string): void;
}

export interface MemoryHubOptions {
  // biome-ignore lint/suspicious/noExplicitAny: each runtime's helper has its own options type
  upgradeWebSocket: UpgradeWebSocket<any, any>;
  replay: Replay;
  logger: Logger;
  now?: () => number;
}

/** setTimeout's longest delay (2^31 − 1 ms, about 24.8 days): longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createMemoryHub(options: MemoryHubOptions): MemoryHub {
  const { upgradeWebSocket, replay, logger } = options;
  const now = options.now ?? (() => Date.now());
  const sockets = new Map<WSContext, AgentIdentity>();
  const expiries = new Map<WSContext, ReturnType<typeof setTimeout>>();
  const forget = (ws: WSContext) => {
    sockets.delete(ws);
    clearTimeout(expiries.get(ws));
    expiries.delete(ws);
  };

  /**
   * Closes the socket when it is to be checked again (4000) or its session ends (4401); sessions may outlast
   * one timer, so it re-arms until then.
   */
  const closeAtEnd = (ws: WSContext, agent: AgentIdentity) => {
    const end = socketEnd(agent);
    if (!end) return;
    const left = end.at - now();
    if (left <= 0) {
      ws.close(end.code, end.reason);
      return;
    }
    expiries.set(
      ws,
      setTimeout(() => closeAtEnd(ws, agent), Math.min(left, MAX_TIMER_MS)),
    );
  };

  const send = (ws: WSContext, frame: ServerFrame | string) => {
    try {
      if (ws.readyState === 1) ws.send(typeof frame === 'string' ? frame : encodeFrame(frame));
    } catch (err) {
      logger.warn('agent socket send failed', { error: (err as Error).message });
    }
  };

  return {
    async publish(message: PushMessage) {
      const text = encodeFrame(message);
      for (const ws of sockets.keys()) send(ws, text);
    },

    async connect(c: Context, agent: AgentIdentity, onReplay?: ReplayAudit) {
      if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
        return c.json(
          {
            error: {
              code: 'upgrade_required',
              message: 'This endpoint speaks WebSocket only',
              requestId: c.get('requestId') ?? 'unknown',
            },
          },
          426,
        );
      }
      const response = await upgradeWebSocket(c, {
        onOpen(_event, ws) {
          sockets.set(ws, agent);
          send(ws, helloFrame(agent, now()));
          closeAtEnd(ws, agent);
        },
        onMessage(event, ws) {
          const parsed = parseClientFrame(event.data);
          if (!parsed.ok) {
            send(ws, parsed.error);
            if (parsed.close) ws.close(parsed.close.code, parsed.close.reason);
            return;
          }
          answerClientFrame(parsed.frame, replay, onReplay).then(
            (frames) => {
              for (const frame of frames) send(ws, frame);
            },
            (err: Error) => {
              logger.error('agent socket replay failed', { error: err.message, agent: agent.id });
              send(ws, { type: 'error', code: 'replay_failed', message: 'Could not fetch missed calls' });
            },
          );
        },
        onClose(_event, ws) {
          forget(ws);
        },
        onError(_event, ws) {
          forget(ws);
        },
      });
      return response ?? c.text('WebSocket upgrade failed', 500);
    },

    async endSession(sessionId: string) {
      for (const [ws, identity] of [...sockets]) {
        if (identity.session !== sessionId) continue;
        try {
          ws.close(SESSION_ENDED, 'signed out');
        } catch {
          // already closing
        }
        forget(ws);
      }
    },

    size: () => sockets.size,

    disconnectAll(code = 1001, reason = 'server going away') {
      for (const ws of sockets.keys()) {
        try {
          ws.close(code, reason);
        } catch {
          // already closing
        }
      }
      for (const ws of [...sockets.keys()]) forget(ws);
    },
  };
}
