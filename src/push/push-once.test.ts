import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AgentServer, seedSharedNumber, startAgentServer } from '../../test/support/agent-server.js';
import { type FormParams, twilioFormRequest, voiceParams } from '../../test/support/twilio-sign.js';
import { findInteraction } from '../inbound/index.js';

/**
 * "Publishes once", end to end: Twilio's retries and repeated status callbacks go through the real app on
 * loopback, the real in-process hub (`createMemoryHub`, as `npm start` wires it) and a real WebSocket of a
 * signed-in agent. The socket itself is checked, before any client-side de-duplication could hide a
 * repeat: one `interaction` frame per (id, version), and one per change.
 */

let s: AgentServer;
let cookie: string;
let family: string;

beforeAll(async () => {
  s = await startAgentServer();
  family = await seedSharedNumber(s.deps);
  cookie = await s.signIn();
});
afterAll(async () => {
  await s?.stop();
});

/** A form POST signed as Twilio signs it, over the server's own URL, with Twilio's extra headers. */
function twilioPost(path: string, params: FormParams, headers: Record<string, string> = {}) {
  return fetch(twilioFormRequest(path, params, { baseUrl: s.url, headers }, s.url));
}

type Frame = Record<string, unknown>;
interface InteractionFrame {
  type: 'interaction';
  id: string;
  version: number;
  interaction: { twilioSid: string; status: string };
}

/** A signed-in agent's socket, open and greeted, recording every frame it receives. */
async function agentSocket() {
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/agent/socket`, {
    headers: { cookie, origin: s.url },
  });
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (!waiter.match(frame)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(frame);
    }
  });
  const next = (match: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve) => {
      const seen = frames.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  await next((f) => f.type === 'hello');
  let pings = 0;
  return {
    ws,
    frames,
    /**
     * Every frame the server sent before this call has arrived: a ping's pong travels behind them on the
     * same connection. The webhooks publish before they answer, so after their responses this is the end.
     */
    async drain() {
      pings += 1;
      const t = pings;
      ws.send(JSON.stringify({ type: 'ping', t }));
      await next((f) => f.type === 'pong' && f.t === t);
    },
    interactions(twilioSid: string): InteractionFrame[] {
      return (frames as unknown as InteractionFrame[]).filter(
        (f) => f.type === 'interaction' && f.interaction.twilioSid === twilioSid,
      );
    },
  };
}

/** One entry per (id, version) the socket received, with how many frames carried it. */
function perVersion(frames: InteractionFrame[]) {
  const counts = new Map<string, number>();
  for (const f of frames) counts.set(`${f.id}@${f.version}`, (counts.get(`${f.id}@${f.version}`) ?? 0) + 1);
  return [...counts.values()];
}

describe('each change reaches an agent socket exactly once', () => {
  it('a retried call webhook, same CallSid and idempotency token, then repeated status callbacks', async () => {
    const agent = await agentSocket();
    const other = await agentSocket();
    const params = voiceParams(family);
    const callSid = params.CallSid as string;
    const token = { 'i-twilio-idempotency-token': `retry-${callSid}` };

    // Twilio redelivers the webhook (its timeout passed, or it saw a network error): same SID, same token.
    const first = await twilioPost('/twilio/voice', params, token);
    const retried = await twilioPost('/twilio/voice', params, token);
    // A retry after the token's window, or from a path that sends none, is caught by the CallSid alone.
    const noToken = await twilioPost('/twilio/voice', params);
    expect([first.status, retried.status, noToken.status]).toEqual([200, 200, 200]);
    const firstAnswer = await first.text();
    expect(await retried.text()).toBe(firstAnswer);
    expect(await noToken.text()).toBe(firstAnswer);

    const status = (callStatus: string, idempotencyToken?: string) =>
      twilioPost(
        '/twilio/voice/status',
        { ...voiceParams(family, { CallSid: callSid }), CallStatus: callStatus },
        idempotencyToken ? { 'i-twilio-idempotency-token': idempotencyToken } : {},
      );
    // Each status callback redelivered with its token, one repeated without, one late and backwards.
    for (const [callStatus, id] of [
      ['in-progress', `answered-${callSid}`],
      ['in-progress', `answered-${callSid}`],
      ['in-progress', undefined],
      ['ringing', undefined],
      ['completed', `ended-${callSid}`],
      ['completed', `ended-${callSid}`],
      ['completed', undefined],
    ] as const) {
      expect((await status(callStatus, id)).status).toBe(204);
    }
    // Twilio's last redelivery of the first webhook, after the call has ended: answered, never pushed.
    const late = await twilioPost('/twilio/voice', params, token);
    expect(late.status).toBe(200);
    expect(await late.text()).toBe(firstAnswer);

    await agent.drain();
    await other.drain();
    const record = await findInteraction(s.deps.db, callSid);
    expect(record?.status).toBe('completed');

    for (const socket of [agent, other]) {
      const frames = socket.interactions(callSid);
      // One frame per change: created (ringing), answered, ended; never a repeat of a version.
      expect(frames.map((f) => f.interaction.status)).toEqual(['ringing', 'in-progress', 'completed']);
      expect(perVersion(frames)).toEqual([1, 1, 1]);
      expect(new Set(frames.map((f) => f.id))).toEqual(new Set([record?.id]));
      // Versions only go forward, and the last one is what the database holds.
      const versions = frames.map((f) => f.version);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(versions.at(-1)).toBe(record?.updatedAt);
    }
    agent.ws.close();
    other.ws.close();
  });

  it('a webhook retry racing its original still pushes one frame', async () => {
    const agent = await agentSocket();
    const params = voiceParams(family);
    const callSid = params.CallSid as string;
    const headers = { 'i-twilio-idempotency-token': `race-${callSid}` };
    const responses = await Promise.all([
      twilioPost('/twilio/voice', params, headers),
      twilioPost('/twilio/voice', params, headers),
      twilioPost('/twilio/voice', params),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    await agent.drain();
    const frames = agent.interactions(callSid);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.interaction.status).toBe('ringing');
    agent.ws.close();
  });
});
