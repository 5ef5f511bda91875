import { DurableObject } from 'cloudflare:workers';
import type { Context } from 'hono';
import { audit } from '../audit/index.js';
import type { Logger } from '../shared/logger.js';
import { buildWorkerDeps, loadWorkerConfig, type WorkerDeps } from '../worker/deps.js';
import {
  answerClientFrame,
  encodeFrame,
  helloFrame,
  parseClientFrame,
  SESSION_ENDED,
  type ServerFrame,
  socketEnd,
} from './protocol.js';
import { replayChangesSince } from './replay.js';
import { type AgentHub, type AgentIdentity, nullHub, type PushMessage } from './types.js';

/**
 * The agent hub on Workers: one Durable Object per tenant (a deployment) holds the consoles' sockets and fans
 * out every published interaction. Sockets are accepted through the hibernation API, so between calls the
 * object is evicted while the sockets stay open: an idle console costs no duration. The frames are the
 * same as the in-process hub's (`./protocol.ts`); replays read the database, so nothing lives only here.
 *
 * A socket lives no longer than the agent's session: its end (`expiresAt`) travels with the socket
 * (serializeAttachment, so it survives hibernation). An alarm at the earliest end closes expired sockets
 * with 4401 (SESSION_ENDED), as the in-process hub's timer does; `publish` and incoming frames check it
 * too, so an expired socket never gets another frame even if the alarm is late. Signing out closes the
 * session's sockets through `endSession`.
 */

/** Set by the Worker after it has authenticated the agent; the object is unreachable from outside. */
const AGENT_HEADER = 'x-callerpop-agent';
/** workerd's limit for one tag. */
const MAX_TAG = 256;
/** A bare ping (the console's keep-alive without `t`) is answered by the runtime without waking the object. */
const AUTO_PING = '{"type":"ping"}';
const AUTO_PONG = encodeFrame({ type: 'pong', t: null });

export class AgentHubObject extends DurableObject {
  private deps: WorkerDeps | undefined;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(AUTO_PING, AUTO_PONG));
  }

  /** Built on first use after each wake-up: only a replay needs the database. */
  private feedDeps(): WorkerDeps {
    this.deps ??= buildWorkerDeps(loadWorkerConfig(this.env), { hub: nullHub, assets: this.env.ASSETS });
    return this.deps;
  }

  private send(ws: WebSocket, frame: ServerFrame | string): void {
    try {
      ws.send(typeof frame === 'string' ? frame : encodeFrame(frame));
    } catch {
      // Closed between listing and sending: its close handler cleans up.
    }
  }

  /** Accepts one authenticated agent's socket (the Worker forwards the upgrade here). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return new Response('expected a WebSocket upgrade', { status: 426 });
    const agent = parseAgent(request.headers.get(AGENT_HEADER));
    if (!agent) return new Response('no agent', { status: 400 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [`agent:${agent.id}`.slice(0, MAX_TAG)]);
    server.serializeAttachment(agent);
    if (this.closeIfEnded(server, Date.now())) return new Response(null, { status: 101, webSocket: client });
    this.send(server, helloFrame(agent, Date.now()));
    const end = socketEnd(agent);
    if (end) await this.armAlarm(end.at);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** RPC from the Worker: one frame to every connected console; returns how many were sent. */
  async publish(message: PushMessage): Promise<number> {
    const frame = encodeFrame(message);
    const now = Date.now();
    let sent = 0;
    for (const ws of this.ctx.getWebSockets()) {
      if (this.closeIfEnded(ws, now)) continue;
      this.send(ws, frame);
      sent += 1;
    }
    return sent;
  }

  /** RPC from the Worker when an agent signs out: closes that session's sockets (4401). */
  async endSession(sessionId: string): Promise<number> {
    let closed = 0;
    for (const ws of this.ctx.getWebSockets()) {
      if (attachmentOf(ws)?.session !== sessionId) continue;
      closeQuietly(ws, SESSION_ENDED, 'signed out');
      closed += 1;
    }
    return closed;
  }

  /** Closes every socket due to be checked again or whose session has ended, then waits for the next. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let next: number | undefined;
    for (const ws of this.ctx.getWebSockets()) {
      if (this.closeIfEnded(ws, now)) continue;
      const agent = attachmentOf(ws);
      const end = agent ? socketEnd(agent)?.at : undefined;
      if (end !== undefined && (next === undefined || end < next)) next = end;
    }
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  /** One alarm, at the earliest session end among the open sockets. */
  private async armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  /** True (and the socket closed: 4000 to be checked again, 4401 when its session is over) when it is due. */
  private closeIfEnded(ws: WebSocket, now: number): boolean {
    const agent = attachmentOf(ws);
    const end = agent ? socketEnd(agent) : undefined;
    if (end === undefined || end.at > now) return false;
    closeQuietly(ws, end.code, end.reason);
    return true;
  }

  /** Connected consoles per agent id (operations and tests). */
  async connections(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const ws of this.ctx.getWebSockets()) {
      const id = attachmentOf(ws)?.id ?? 'unknown';
      counts[id] = (counts[id] ?? 0) + 1;
    }
    return counts;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (this.closeIfEnded(ws, Date.now())) return;
    const parsed = parseClientFrame(message);
    if (!parsed.ok) {
      this.send(ws, parsed.error);
      if (parsed.close) ws.close(parsed.close.code, parsed.close.reason);
      return;
    }
    try {
      const deps = this.feedDeps();
      const agent = attachmentOf(ws);
      // The object audits its replays itself: the Worker's request (and its context) is long gone.
      const frames = await answerClientFrame(
        parsed.frame,
        (since) => replayChangesSince(deps.db, deps.config, since),
        (page) =>
          audit(deps, null, { id: agent?.id ?? 'unknown', name: agent?.name ?? null }, 'console_view', null, {
            via: 'socket_resume',
            ...page,
          }),
      );
      for (const frame of frames) this.send(ws, frame);
    } catch (err) {
      const agent = attachmentOf(ws);
      this.logger().error('agent socket replay failed', {
        error: err instanceof Error ? err.message : String(err),
        agent: agent?.id,
      });
      this.send(ws, { type: 'error', code: 'replay_failed', message: 'Could not fetch missed calls' });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // 1005 and 1006 may be received but never sent.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, 'socket error');
  }

  private logger(): Logger {
    return this.feedDeps().logger;
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string) {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

function attachmentOf(ws: WebSocket): AgentIdentity | null {
  try {
    return ws.deserializeAttachment() as AgentIdentity | null;
  } catch {
    return null;
  }
}

function parseAgent(header: string | null): AgentIdentity | undefined {
  if (!header) return undefined;
  try {
    const value = JSON.parse(decodeURIComponent(header)) as Partial<AgentIdentity>;
    if (typeof value.id !== 'string' || typeof value.name !== 'string') return undefined;
    const agent: AgentIdentity = { id: value.id, name: value.name };
    if (typeof value.expiresAt === 'number' && Number.isFinite(value.expiresAt))
      agent.expiresAt = value.expiresAt;
    if (typeof value.session === 'string') agent.session = value.session;
    if (typeof value.revalidateAt === 'number' && Number.isFinite(value.revalidateAt))
      agent.revalidateAt = value.revalidateAt;
    return agent;
  } catch {
    // Only the Worker sets this header; a malformed one is a bug, answered as "no agent".
  }
  return undefined;
}

/** The Worker-side hub: publishes through the object's RPC and forwards agents' upgrades to it. */
export class DurableObjectHub implements AgentHub {
  constructor(
    private readonly namespace: DurableObjectNamespace<AgentHubObject>,
    private readonly logger: Logger,
    /** One object per tenant; a deployment is one tenant. */
    private readonly shard = 'default',
  ) {}

  private stub() {
    return this.namespace.get(this.namespace.idFromName(this.shard));
  }

  /**
   * A failed push never fails the webhook that caused it (the call is routed regardless): consoles
   * catch up from the database when they resume.
   */
  async publish(message: PushMessage): Promise<void> {
    try {
      await this.stub().publish(message);
    } catch (err) {
      this.logger.warn('hub: publish to the Durable Object failed', {
        interactionId: message.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  async connect(c: Context, agent: AgentIdentity): Promise<Response> {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      const requestId = c.get('requestId') ?? 'unknown';
      return c.json(
        { error: { code: 'upgrade_required', message: 'This endpoint speaks WebSocket only', requestId } },
        426,
      );
    }
    // Only what the upgrade needs: the session cookie and the rest stay in the Worker.
    const headers = new Headers({ upgrade: 'websocket' });
    for (const name of ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol']) {
      const value = c.req.header(name);
      if (value) headers.set(name, value);
    }
    const forwarded: AgentIdentity = { id: agent.id, name: agent.name };
    if (agent.expiresAt !== undefined) forwarded.expiresAt = agent.expiresAt;
    if (agent.revalidateAt !== undefined) forwarded.revalidateAt = agent.revalidateAt;
    if (agent.session !== undefined) forwarded.session = agent.session;
    headers.set(AGENT_HEADER, encodeURIComponent(JSON.stringify(forwarded)));
    return this.stub().fetch(new Request(c.req.url, { method: 'GET', headers }));
  }

  /** Sign-out: the session's open consoles stop receiving pops at once. Best effort, like publish. */
  async endSession(sessionId: string): Promise<void> {
    try {
      await this.stub().endSession(sessionId);
    } catch (err) {
      this.logger.warn('hub: closing a signed-out session failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
