import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { frames } from './helpers.js';

/** The hub object on its own: hibernation-API sockets, RPC publish, the shared frame protocol. */
function hub() {
  return env.AGENT_HUB.get(env.AGENT_HUB.idFromName('default'));
}

async function open(agent: { id: string; name: string }) {
  const res = await hub().fetch('https://hub/socket', {
    headers: { upgrade: 'websocket', 'x-callerpop-agent': encodeURIComponent(JSON.stringify(agent)) },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no socket in the 101');
  const feed = frames(ws);
  ws.accept();
  return { ws, feed };
}

describe('AgentHubObject', () => {
  it('greets, fans a published message out to every socket, and answers pings', async () => {
    const a = await open({ id: 'token:admin', name: 'Admin' });
    const b = await open({ id: 'oidc:auth0|42', name: 'Dana' });
    expect(await a.feed.next((f) => f.type === 'hello')).toMatchObject({ agent: { id: 'token:admin' } });
    await b.feed.next((f) => f.type === 'hello');
    expect(await hub().connections()).toMatchObject({ 'token:admin': 1, 'oidc:auth0|42': 1 });

    const message = { type: 'interaction' as const, id: 'int-1', version: 5, interaction: { id: 'int-1' } };
    expect(await hub().publish(message)).toBe(2);
    expect(await a.feed.next((f) => f.type === 'interaction')).toEqual(message);
    expect(await b.feed.next((f) => f.type === 'interaction')).toEqual(message);

    a.ws.send('{"type":"ping"}');
    expect(await a.feed.next((f) => f.type === 'pong')).toEqual({ type: 'pong', t: null });
    a.ws.send('{"type":"ping","t":7}');
    expect(await a.feed.next((f) => f.type === 'pong' && f.t === 7)).toEqual({ type: 'pong', t: 7 });
    a.ws.close(1000, 'done');
    b.ws.close(1000, 'done');
  });

  it('refuses malformed frames with an error frame and keeps the socket', async () => {
    const { ws, feed } = await open({ id: 'token:admin', name: 'Admin' });
    ws.send('{"type":"subscribe"}');
    expect(await feed.next((f) => f.type === 'error')).toMatchObject({ code: 'bad_frame' });
    ws.send('{"type":"ping","t":1}');
    expect(await feed.next((f) => f.type === 'pong')).toEqual({ type: 'pong', t: 1 });
    ws.close(1000, 'done');
  });

  it('replays from the database on resume', async () => {
    const { ws, feed } = await open({ id: 'token:admin', name: 'Admin' });
    ws.send(JSON.stringify({ type: 'resume', since: Date.now() + 60_000 }));
    expect(await feed.next((f) => f.type === 'synced')).toMatchObject({ more: false });
    ws.close(1000, 'done');
  });

  it('accepts only WebSocket upgrades with an agent', async () => {
    expect((await hub().fetch('https://hub/socket')).status).toBe(426);
    expect((await hub().fetch('https://hub/socket', { headers: { upgrade: 'websocket' } })).status).toBe(400);
  });
});
