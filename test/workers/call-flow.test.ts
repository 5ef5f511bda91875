import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { BASE, frames, postActionEvent, sid, twilioPost, voiceParams, worker } from './helpers.js';

/**
 * The whole path inside workerd, nothing replaced: an Action callback indexes a number, Twilio calls from it,
 * the Worker answers TwiML, records the matched call in libSQL (over HTTP) and pushes it through the Durable
 * Object to a signed-in agent's WebSocket; the status callback pushes the update.
 */

const CALLER = '+14155550123';
const USER = 'sms|workers-flow';

async function signIn(): Promise<string> {
  const res = await worker(`/agent/login?token=${env.ADMIN_TOKEN}`, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  expect(cookies.length).toBeGreaterThan(0);
  return cookies.join('; ');
}

interface PushedInteraction {
  twilioSid: string;
  status: string;
  matches: { userId: string }[];
}

describe('a call through the Worker', () => {
  it('is matched against the Action-fed index, answered with TwiML and popped on the agent socket', async () => {
    const cookie = await signIn();
    const upgrade = await worker('/agent/socket', {
      headers: { upgrade: 'websocket', cookie, origin: BASE },
    });
    expect(upgrade.status).toBe(101);
    const ws = upgrade.webSocket;
    if (!ws) throw new Error('no WebSocket in the 101');
    const feed = frames(ws);
    ws.accept();
    expect(await feed.next((f) => f.type === 'hello')).toMatchObject({ agent: { id: 'token:admin' } });

    // An Action reports a passwordless SMS user: the number is indexed.
    const indexed = await postActionEvent({
      type: 'user.registered',
      occurred_at: Date.now(),
      user: { user_id: USER, name: 'Workers Flow', connection: 'sms', strategy: 'sms', phone_number: CALLER },
    });
    expect(indexed.status).toBe(200);
    expect(await indexed.json()).toMatchObject({ ok: true });

    // Twilio calls from that number.
    const callSid = sid('CA');
    const answer = await twilioPost('/twilio/voice', voiceParams(CALLER, callSid));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/xml');
    const twiml = await answer.text();
    expect(twiml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Response>.*<\/Response>$/);

    const pop = await feed.next((f) => f.type === 'interaction');
    const interaction = pop.interaction as PushedInteraction;
    expect(interaction.twilioSid).toBe(callSid);
    expect(interaction.matches.map((m) => m.userId)).toEqual([USER]);

    // What a softphone fetches for its own pop: the same match, from the database.
    const api = await worker(`/api/interactions/${callSid}`, {
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(api.status).toBe(200);
    expect(((await api.json()) as PushedInteraction).matches.map((m) => m.userId)).toEqual([USER]);

    // The call ends: Twilio's status callback updates the record and the console.
    const status = await twilioPost('/twilio/voice/status', {
      ...voiceParams(CALLER, callSid),
      CallStatus: 'completed',
      CallDuration: '42',
    });
    expect(status.status).toBeLessThan(300);
    const update = await feed.next(
      (f) => f.type === 'interaction' && (f.interaction as PushedInteraction).status === 'completed',
    );
    expect(update.id).toBe(pop.id);
    expect(update.version as number).toBeGreaterThanOrEqual(pop.version as number);
    ws.close(1000, 'done');
  });

  it('refuses an unsigned webhook and an unauthenticated socket', async () => {
    const unsigned = await worker('/twilio/voice', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(voiceParams(CALLER)).toString(),
    });
    expect(unsigned.status).toBe(403);
    const socket = await worker('/agent/socket', { headers: { upgrade: 'websocket', origin: BASE } });
    expect(socket.status).toBe(401);
  });
});
