import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type AgentServer, startAgentServer } from '../../test/support/agent-server.js';
import { queryAudit } from '../audit/index.js';
import { parseCursor } from './protocol.js';
import { REPLAY_PAGE_SIZE, replayChangesSince } from './replay.js';

/**
 * Catch-up pages walk (updatedAt, id): a full page of rows that share one millisecond must not make the
 * next page skip the rest of that millisecond (it did with a time-only cursor: 200 of 250 arrived).
 */

let s: AgentServer;
let cookie: string;
/** One millisecond shared by every seeded row, well before anything the app records during the run. */
const SAME_MS = Date.UTC(2026, 0, 1, 9, 30);
const ROWS = 250;
let seeded: string[];

/** `count` interactions all updated at `at`, inserted with plain SQL in one batch; returns their ids. */
async function seedSameMillisecond(server: AgentServer, at: number, count: number, tag: string) {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  await server.deps.db.$client.batch(
    ids.map((id, i) => ({
      sql: `insert into interactions (id, channel, twilio_sid, raw_from, e164, status, created_at, updated_at)
            values (?, 'voice', ?, '+14155550100', '+14155550100', 'completed', ?, ?)`,
      args: [id, `CA${tag}${i.toString(16).padStart(32 - tag.length, '0')}`, at, at],
    })),
    'write',
  );
  return ids;
}

beforeAll(async () => {
  s = await startAgentServer();
  cookie = await s.signIn();
  seeded = await seedSameMillisecond(s, SAME_MS, ROWS, 'a');
});
afterAll(async () => {
  await s?.stop();
});

/** Ids of one millisecond as the pages deliver them, in order, with repeats kept (so a repeat shows). */
function idsAt(messages: { id: string; version: number }[], at: number) {
  return messages.filter((m) => m.version === at).map((m) => m.id);
}

describe('catch-up over rows sharing one millisecond', () => {
  it('pages through all of them, each once, in (updatedAt, id) order', async () => {
    const delivered: string[] = [];
    let cursor: string | number = SAME_MS - 1;
    const pages: number[] = [];
    for (;;) {
      const since = parseCursor(cursor);
      if (!since) throw new Error(`bad cursor ${cursor}`);
      const page = await replayChangesSince(s.deps.db, s.config, since);
      pages.push(page.messages.length);
      delivered.push(...idsAt(page.messages, SAME_MS));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(pages.slice(0, 2)).toEqual([REPLAY_PAGE_SIZE, ROWS - REPLAY_PAGE_SIZE]);
    expect(delivered).toHaveLength(ROWS);
    expect(new Set(delivered).size).toBe(ROWS);
    expect(delivered).toEqual([...seeded].sort());
    // The page's cursor names its last row; the time-only cursor of a client still means "after it".
    expect(cursor).toBe(`${SAME_MS}:${[...seeded].sort().at(-1)}`);
    const after = await replayChangesSince(s.deps.db, s.config, SAME_MS);
    expect(idsAt(after.messages, SAME_MS)).toEqual([]);
  });

  it('is served by the (updated_at, id) index, without sorting', async () => {
    const plan = await s.deps.db.$client.execute({
      sql: `explain query plan select * from interactions
            where updated_at >= ? and (updated_at > ? or id > ?) order by updated_at, id limit 200`,
      args: [SAME_MS, SAME_MS, 'x'],
    });
    const steps = plan.rows.map((r) => String(r.detail));
    expect(steps.some((d) => d.includes('USING INDEX interactions_updated'))).toBe(true);
    expect(steps.some((d) => d.includes('TEMP B-TREE'))).toBe(false);
  });

  it('replays all of them over the socket, following the synced cursors', async () => {
    const frames: Record<string, unknown>[] = [];
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/agent/socket`, {
      headers: { cookie, origin: s.url },
    });
    const synced: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'hello') ws.send(JSON.stringify({ type: 'resume', since: SAME_MS - 1 }));
        if (frame.type === 'error') reject(new Error(String(frame.message)));
        if (frame.type !== 'synced') return;
        synced.push(frame);
        // Exactly what the console does: the cursor goes back as it came.
        if (frame.more) ws.send(JSON.stringify({ type: 'resume', since: frame.cursor }));
        else resolve();
      });
      ws.once('error', reject);
    });
    await done;
    ws.close();
    const messages = frames.filter((f) => f.type === 'interaction') as { id: string; version: number }[];
    const delivered = idsAt(messages, SAME_MS);
    expect(delivered).toHaveLength(ROWS);
    expect(new Set(delivered).size).toBe(ROWS);
    expect(synced[0]).toMatchObject({ more: true, cursor: expect.stringMatching(/^\d+:[\w-]+$/) });
    // Each page is audited with where it started: the client's time first, then the opaque cursor.
    const entries = await queryAudit(s.deps.db, { action: 'console_view', limit: synced.length });
    const starts = entries.map((e) => (e.detail as { since: unknown }).since).reverse();
    expect(starts[0]).toBe(SAME_MS - 1);
    expect(starts[1]).toBe(synced[0]?.cursor);
  });

  it('pages over HTTP with the same cursors, and refuses a malformed one', async () => {
    const delivered: string[] = [];
    let cursor = String(SAME_MS - 1);
    for (;;) {
      const res = await fetch(`${s.url}/agent/api/since?cursor=${encodeURIComponent(cursor)}`, {
        headers: { cookie },
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        messages: { id: string; version: number }[];
        cursor: string;
        more: boolean;
      };
      delivered.push(...idsAt(page.messages, SAME_MS));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(delivered).toHaveLength(ROWS);
    expect(new Set(delivered).size).toBe(ROWS);
    for (const bad of ['-1', 'yesterday', `${SAME_MS}:`, `${SAME_MS}:a b`, '99999999999999999']) {
      const res = await fetch(`${s.url}/agent/api/since?cursor=${encodeURIComponent(bad)}`, {
        headers: { cookie },
      });
      expect(res.status, bad).toBe(400);
    }
  });

  it('refuses a malformed cursor in a resume frame and keeps the socket', async () => {
    const frames: Record<string, unknown>[] = [];
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/agent/socket`, {
      headers: { cookie, origin: s.url },
    });
    const errors = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'hello') {
          ws.send(JSON.stringify({ type: 'resume', since: `${SAME_MS}:no spaces` }));
          ws.send(JSON.stringify({ type: 'resume', since: '12.5' }));
          ws.send(JSON.stringify({ type: 'ping', t: 9 }));
        }
        if (frame.type === 'pong') resolve();
      });
    });
    await errors;
    ws.close();
    expect(frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(['bad_frame', 'bad_frame']);
  });
});
