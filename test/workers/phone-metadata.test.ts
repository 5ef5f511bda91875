import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createClient } from '@libsql/client/web';
import maxMetadata from 'libphonenumber-js/metadata.max.json';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { postActionEvent, sid, twilioPost, voiceParams, worker } from './helpers.js';

/**
 * libphonenumber-js's `max` metadata is not in the Worker bundle: the Worker loads it from its static assets
 * (wrangler.toml [assets]) once per isolate, before the first request reaches the app. Numbers must read
 * exactly as on Node, and a request that arrives first must wait for the load, never be answered blind.
 */

const GB_LANDLINE = '+442079460123';
const USER = 'sms|workers-gb';
const bearer = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
const db = createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN });
afterAll(() => db.close());

interface Lookup {
  e164: string | null;
  display?: string;
  country?: string | null;
  reason?: string;
  matches: { userId: string }[];
}

async function indexGbUser() {
  const res = await postActionEvent({
    type: 'user.registered',
    occurred_at: Date.now(),
    user: {
      user_id: USER,
      name: 'Workers GB',
      connection: 'sms',
      strategy: 'sms',
      phone_number: GB_LANDLINE,
    },
  });
  expect(res.status).toBe(200);
}

const lookupPath = (phone: string, region: string) =>
  `/api/lookup?phone=${encodeURIComponent(phone)}&region=${region}`;

/**
 * A fresh copy of the Worker entry and everything it imports, as a new isolate has it: no metadata yet.
 * Its ASSETS binding is the real one, behind a gate the test opens, counting the reads.
 */
async function freshIsolate(assets: (input: string) => Promise<Response>) {
  vi.resetModules();
  const { default: entry } = await import('../../src/worker.js');
  const { normalizePhone } = await import('../../src/shared/phone/normalize.js');
  const isolateEnv = { ...env, ASSETS: { ...env.ASSETS, fetch: assets } } as unknown as Env;
  const fetchVia = async (path: string, headers: Record<string, string>) => {
    const ctx = createExecutionContext();
    const res = await entry.fetch(new Request(`${env.PUBLIC_BASE_URL}${path}`, { headers }), isolateEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { fetch: fetchVia, normalizePhone };
}

describe('phone metadata on Workers', () => {
  it('is the exact libphonenumber-js max metadata, served from the static assets', async () => {
    const res = await env.ASSETS.fetch('https://assets.invalid/phone-metadata.max.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(maxMetadata);
  });

  it('reads, validates and matches a GB number inside workerd as on Node', async () => {
    await indexGbUser();

    // Twilio calls from the GB number: normalized, matched, recorded, displayed with its grouping.
    const callSid = sid('CA');
    const answer = await twilioPost('/twilio/voice', {
      ...voiceParams(GB_LANDLINE, callSid),
      FromCountry: 'GB',
    });
    expect(answer.status).toBe(200);
    const api = await worker(`/api/interactions/${callSid}`, { headers: bearer });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({
      e164: GB_LANDLINE,
      callerDisplay: '+44 20 7946 0123',
      matches: [{ userId: USER }],
    });

    // A national number needs the region's metadata to be read at all.
    const national = await worker(lookupPath('020 7946 0123', 'GB'), { headers: bearer });
    expect((await national.json()) as Lookup).toMatchObject({
      e164: GB_LANDLINE,
      display: '+44 20 7946 0123',
      country: 'GB',
      matches: [{ userId: USER }],
    });

    // An Isle of Man number in an unassigned range: valid by the `min` metadata, invalid by `max`.
    const unassigned = await worker(lookupPath('+44 7624 737577', 'GB'), { headers: bearer });
    expect((await unassigned.json()) as Lookup).toMatchObject({ e164: null, reason: 'invalid' });
  });

  it('makes requests that arrive before the metadata has loaded wait for one shared load', async () => {
    await indexGbUser();
    let reads = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let requested!: () => void;
    const firstRead = new Promise<void>((resolve) => {
      requested = resolve;
    });
    const isolate = await freshIsolate(async (input) => {
      reads += 1;
      requested();
      await gate;
      return env.ASSETS.fetch(input);
    });

    const settled: string[] = [];
    const first = isolate.fetch(lookupPath('020 7946 0123', 'GB'), bearer).finally(() => {
      settled.push('first');
    });
    const second = isolate.fetch(lookupPath('+44 20 7946 0123', 'GB'), bearer).finally(() => {
      settled.push('second');
    });
    await firstRead;
    // A database round trip: time enough to answer both, had they not been waiting. (Not through the
    // Worker: its default export now shares this fresh module graph, so it would wait on the gate too.)
    await db.execute('select 1');
    // Neither was answered while the metadata was still on its way...
    expect(settled).toEqual([]);
    // ...and code that ran in that window would have said "unavailable", not "invalid".
    expect(isolate.normalizePhone(GB_LANDLINE)).toMatchObject({ ok: false, reason: 'unavailable' });

    open();
    for (const res of await Promise.all([first, second])) {
      expect(res.status).toBe(200);
      expect((await res.json()) as Lookup).toMatchObject({
        e164: GB_LANDLINE,
        country: 'GB',
        matches: [{ userId: USER }],
      });
    }
    expect(reads).toBe(1);
    expect(isolate.normalizePhone(GB_LANDLINE)).toMatchObject({ ok: true, type: 'FIXED_LINE' });
  });

  it('answers 503 while the metadata cannot be loaded, and loads it on a later request', async () => {
    await indexGbUser();
    let reads = 0;
    const isolate = await freshIsolate((input) => {
      reads += 1;
      // The first read asks the real binding for a file that is not there.
      return env.ASSETS.fetch(reads === 1 ? 'https://assets.invalid/missing.json' : input);
    });

    const failed = await isolate.fetch(lookupPath('020 7946 0123', 'GB'), bearer);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('unavailable');

    const retried = await isolate.fetch(lookupPath('020 7946 0123', 'GB'), bearer);
    expect(retried.status).toBe(200);
    expect((await retried.json()) as Lookup).toMatchObject({
      e164: GB_LANDLINE,
      matches: [{ userId: USER }],
    });
    expect(reads).toBe(2);
  });
});
