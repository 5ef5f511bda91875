import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createClient } from '@libsql/client/web';
import { describe, expect, it } from 'vitest';
import { frames } from './helpers.js';

/** The hub object on its own: hibernation-API sockets, RPC publish, the shared frame protocol. */
function hub() {
  return env.AGENT_HUB.get(env.AGENT_HUB.idFromName('default'));
}

async function open(agent: { id: string; name: string; expiresAt?: number; session?: string }) {
  const res = await hub().fetch('https://hub/socket', {
    headers: { upgrade: 'websocket', 'x-callerpop-agent': encodeURIComponent(JSON.stringify(agent)) },
  });
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no socket in the 101');
  const feed = frames(ws);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
  );
  ws.accept();
  return { ws, feed, closed };
}

const message = (id: string) => ({ type: 'interaction' as const, id, version: 1, interaction: { id } });

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

  it('replays from the database on resume, and audits each page', async () => {
    const agentId = `oidc:replayer-${crypto.randomUUID()}`;
    const { ws, feed } = await open({ id: agentId, name: 'Replayer' });
    const since = Date.now() + 60_000;
    ws.send(JSON.stringify({ type: 'resume', since }));
    expect(await feed.next((f) => f.type === 'synced')).toMatchObject({ more: false });
    ws.close(1000, 'done');
    const db = createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN });
    const rs = await db.execute({
      sql: 'select action, agent_name, detail from audit_log where agent_id = ?',
      args: [agentId],
    });
    expect(rs.rows.map((r) => [r.action, r.agent_name, JSON.parse(String(r.detail))])).toEqual([
      ['console_view', 'Replayer', { via: 'socket_resume', since, count: 0, more: false }],
    ]);
  });

  it('replays every row of a millisecond shared by more than a page, each once', async () => {
    const db = createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN });
    // A millisecond of its own, before this run (other tests' calls are newer and are ignored below) and
    // well inside the retention window (the Cron Trigger test must not delete these rows meanwhile).
    const at = Date.now() - 3_600_000 - Math.floor(Math.random() * 3_600_000);
    const ids = Array.from({ length: 250 }, () => crypto.randomUUID());
    await db.batch(
      ids.map((id) => ({
        sql: `insert into interactions (id, channel, twilio_sid, raw_from, e164, status, created_at, updated_at)
              values (?, 'voice', ?, '+14155550100', '+14155550100', 'completed', ?, ?)`,
        args: [id, `CA${id.replaceAll('-', '')}`, at, at],
      })),
      'write',
    );
    try {
      const { ws, feed } = await open({ id: 'oidc:catch-up', name: 'Catch-up' });
      await feed.next((f) => f.type === 'hello');
      ws.send(JSON.stringify({ type: 'resume', since: at - 1 }));
      let pages = 0;
      for (;;) {
        const synced = await feed.next((f) => f.type === 'synced' && !f.seen);
        synced.seen = true;
        pages += 1;
        if (!synced.more) break;
        // The cursor goes back as it came, as the console sends it.
        ws.send(JSON.stringify({ type: 'resume', since: synced.cursor }));
      }
      ws.close(1000, 'done');
      const delivered = feed.received
        .filter((f) => f.type === 'interaction' && f.version === at)
        .map((f) => f.id as string);
      expect(pages).toBeGreaterThanOrEqual(2);
      expect(delivered).toHaveLength(250);
      expect(new Set(delivered).size).toBe(250);
      expect(delivered).toEqual([...ids].sort());
    } finally {
      await db.execute({ sql: 'delete from interactions where updated_at = ?', args: [at] });
    }
  });

  it('closes a socket whose session has already ended (4401) and sends it nothing', async () => {
    const { closed, feed } = await open({ id: 'oidc:gone', name: 'Gone', expiresAt: Date.now() - 1000 });
    expect(await closed).toMatchObject({ code: 4401 });
    expect(feed.received.filter((f) => f.type === 'hello')).toEqual([]);
  });

  it('closes sockets when their session ends: on publish, on a frame, and by alarm', async () => {
    const live = await open({ id: 'oidc:live', name: 'Live', expiresAt: Date.now() + 3_600_000 });
    await live.feed.next((f) => f.type === 'hello');
    // The session ends while the socket is open; the next publish closes it instead of sending.
    const ending = Date.now() + 50;
    const a = await open({ id: 'oidc:a', name: 'A', expiresAt: ending });
    await a.feed.next((f) => f.type === 'hello');
    await scheduler.wait(100);
    await hub().publish(message('int-expired'));
    expect(await a.closed).toMatchObject({ code: 4401 });
    expect(a.feed.received.some((f) => f.id === 'int-expired')).toBe(false);
    expect(await live.feed.next((f) => f.id === 'int-expired')).toMatchObject({ type: 'interaction' });

    // A frame from an expired socket gets no answer, only the close.
    const b = await open({ id: 'oidc:b', name: 'B', expiresAt: Date.now() + 50 });
    await b.feed.next((f) => f.type === 'hello');
    await scheduler.wait(100);
    b.ws.send('{"type":"ping","t":3}');
    expect(await b.closed).toMatchObject({ code: 4401 });
    expect(b.feed.received.some((f) => f.type === 'pong')).toBe(false);

    // With no traffic at all, the alarm closes it.
    const c = await open({ id: 'oidc:c', name: 'C', expiresAt: Date.now() + 50 });
    await c.feed.next((f) => f.type === 'hello');
    await scheduler.wait(100);
    await runDurableObjectAlarm(hub());
    expect(await c.closed).toMatchObject({ code: 4401 });
    expect(await hub().connections()).toMatchObject({ 'oidc:live': 1 });
    live.ws.close(1000, 'done');
  });

  it('closes the sockets of a session that signs out, and only those', async () => {
    const agent = { id: 'oidc:same', name: 'Same', expiresAt: Date.now() + 3_600_000 };
    const out = await open({ ...agent, session: 'sess-out' });
    const other = await open({ ...agent, session: 'sess-other' });
    await out.feed.next((f) => f.type === 'hello');
    await other.feed.next((f) => f.type === 'hello');
    expect(await hub().endSession('sess-out')).toBe(1);
    expect(await out.closed).toMatchObject({ code: 4401 });
    await hub().publish(message('int-after-sign-out'));
    expect(await other.feed.next((f) => f.id === 'int-after-sign-out')).toMatchObject({
      type: 'interaction',
    });
    other.ws.close(1000, 'done');
  });

  it('accepts only WebSocket upgrades with an agent', async () => {
    expect((await hub().fetch('https://hub/socket')).status).toBe(426);
    expect((await hub().fetch('https://hub/socket', { headers: { upgrade: 'websocket' } })).status).toBe(400);
  });
});
