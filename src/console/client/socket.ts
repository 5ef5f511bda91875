import type { InteractionView } from '../../inbound/index.js';
import type { ClientFrame, ServerFrame } from '../../push/index.js';

/**
 * The push socket: connects, resumes from the newest version the page holds (a little earlier, since frames
 * of one millisecond may arrive out of order), pings, reconnects with backoff, and stops for good when the
 * session has ended (close code 4401, or the upgrade refused with 401).
 */

/** Same value as SESSION_ENDED in the push protocol (a constant, not imported, to keep zod out of the page). */
const SESSION_ENDED = 4401;
/** Same value as REVALIDATE in the push protocol: the server asks for the session to be checked again. */
const REVALIDATE = 4000;
const RESUME_SLACK_MS = 5000;
const PING_EVERY_MS = 25_000;
const SILENT_TOO_LONG_MS = 60_000;
const MAX_BACKOFF_MS = 10_000;

export interface SocketHandlers {
  interaction(view: InteractionView, version: number): void;
  cursor(): number;
  status(text: string, tone: 'good' | 'warn' | 'bad'): void;
  signedOut(): void;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

/** Parses a frame from the server defensively: the page trusts its server, not the bytes on the wire. */
function parseServerFrame(data: string): ServerFrame | null {
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(frame) || typeof frame.type !== 'string') return null;
  switch (frame.type) {
    case 'hello':
    case 'pong':
    case 'error':
      return frame as ServerFrame;
    case 'interaction':
      return typeof frame.id === 'string' && typeof frame.version === 'number' && isObject(frame.interaction)
        ? (frame as ServerFrame)
        : null;
    case 'synced':
      return typeof frame.cursor === 'string' && typeof frame.more === 'boolean'
        ? (frame as ServerFrame)
        : null;
    default:
      return null;
  }
}

export function connectSocket(handlers: SocketHandlers): void {
  let ws: WebSocket | null = null;
  let backoff = 500;
  let lastFrameAt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const send = (frame: ClientFrame) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  function onFrame(data: string) {
    const frame = parseServerFrame(data);
    if (!frame) return;
    lastFrameAt = Date.now();
    if (frame.type === 'hello') {
      backoff = 500;
      handlers.status('Live', 'good');
      send({ type: 'resume', since: Math.max(0, handlers.cursor() - RESUME_SLACK_MS) });
    } else if (frame.type === 'interaction') {
      handlers.interaction(frame.interaction as InteractionView, frame.version);
    } else if (frame.type === 'synced' && frame.more) {
      // The cursor is opaque ("<ms>:<id>"): sent back as is, it continues after the last row of the page.
      send({ type: 'resume', since: frame.cursor });
    }
  }

  function signedOut() {
    stopped = true;
    handlers.signedOut();
  }

  function scheduleReconnect() {
    if (stopped || reconnectTimer) return;
    // Offline: the 'online' event reconnects; retrying now would only fail.
    if (navigator.onLine === false) {
      handlers.status('Offline: waiting for the network', 'bad');
      return;
    }
    handlers.status('Reconnecting…', 'warn');
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  function connect() {
    if (stopped) return;
    if (ws && (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN)) return;
    const url = `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/agent/socket`;
    let opened = false;
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') onFrame(event.data);
    };
    socket.onclose = (event) => {
      ws = null;
      if (event.code === SESSION_ENDED) return signedOut();
      // A routine re-check: reconnect at once, quietly (the upgrade checks the session again).
      if (event.code === REVALIDATE) return connect();
      if (opened) return scheduleReconnect();
      // Refused before opening: a network problem, or the session is gone (the upgrade answered 401).
      fetch('/agent/api/me', { credentials: 'same-origin' }).then(
        (res) => (res.status === 401 ? signedOut() : scheduleReconnect()),
        scheduleReconnect,
      );
    };
    socket.onerror = () => socket.close();
  }

  setInterval(() => {
    if (ws?.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastFrameAt > SILENT_TOO_LONG_MS) {
      ws.close();
      return;
    }
    send({ type: 'ping', t: Date.now() });
  }, PING_EVERY_MS);
  window.addEventListener('online', () => {
    backoff = 500;
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = null;
    connect();
  });
  window.addEventListener('offline', () => {
    handlers.status('Offline: waiting for the network', 'bad');
    ws?.close();
  });
  connect();
}
