import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createResultToken,
  deriveRedirectSecret,
  deriveRedirectSecrets,
  RedirectTokenError,
  signHs256,
  verifyHs256,
  verifyIncomingToken,
} from './redirect-token.js';

/** The HS256 tokens on their own: interoperable with Node's crypto, strict about everything else. */

const SECRET = 'derived-secret-for-tests';
const NOW = Date.UTC(2026, 10, 22, 6, 0, 0);
const nowSec = NOW / 1000;
const options = { secrets: [SECRET], auth0Domain: 'https://Tenant.EU.auth0.com/', now: NOW };

async function problem(promise: Promise<unknown>) {
  try {
    await promise;
    return 'accepted';
  } catch (err) {
    return err instanceof RedirectTokenError ? err.problem : (err as Error).message;
  }
}

describe('HS256', () => {
  it('signs exactly like a Node HMAC-SHA256 JWT', async () => {
    const token = await signHs256({ a: 1 }, SECRET);
    const [h, p, s] = token.split('.');
    expect(s).toBe(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'));
    expect(await verifyHs256(token, SECRET)).toEqual({ a: 1 });
  });

  it('refuses malformed tokens without throwing anything else', async () => {
    for (const bad of ['', 'a.b', 'a.b.c', '!!.??.**', `${'x'.repeat(5000)}.a.b`])
      expect(await problem(verifyHs256(bad, SECRET))).toBe('malformed');
  });

  it('derives the redirect key from the shared secret deterministically', async () => {
    expect(await deriveRedirectSecret('whsec_abc')).toBe(await deriveRedirectSecret('whsec_abc'));
    expect(await deriveRedirectSecret('whsec_abc')).not.toBe(await deriveRedirectSecret('whsec_abd'));
  });

  it('derives one key per space-separated secret, in order, never from the whole string', async () => {
    const keys = await deriveRedirectSecrets(' whsec_new \n whsec_old ');
    expect(keys).toEqual([await deriveRedirectSecret('whsec_new'), await deriveRedirectSecret('whsec_old')]);
    expect(keys).not.toContain(await deriveRedirectSecret('whsec_new whsec_old'));
  });

  it('verifies with any of several keys (rotation)', async () => {
    const token = await signHs256({ a: 1 }, 'key-b');
    expect(await verifyHs256(token, ['key-a', 'key-b'])).toEqual({ a: 1 });
    expect(await problem(verifyHs256(token, ['key-a', 'key-c']))).toBe('signature');
  });
});

describe('incoming token', () => {
  // As encodeToken() makes it (redirect-with-actions.mdx, "Pass data to the external site"): no state claim.
  const base = {
    iss: 'tenant.eu.auth0.com',
    sub: 'auth0|1',
    ip: '203.0.113.7',
    iat: nowSec,
    exp: nowSec + 300,
  };

  it('accepts the tenant domain as issuer, bare or as a URL, and returns the claims it needs', async () => {
    const token = await signHs256(
      { ...base, phone: ' 415 555 0123 ', verified_phone: '+14155550100' },
      SECRET,
    );
    expect(await verifyIncomingToken(token, options)).toEqual({
      sub: 'auth0|1',
      exp: nowSec + 300,
      usedKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      phone: ' 415 555 0123 ',
      verifiedPhone: '+14155550100',
    });
    const urlIss = await signHs256({ ...base, iss: 'https://tenant.eu.auth0.com/' }, SECRET);
    expect(await problem(verifyIncomingToken(urlIss, options))).toBe('accepted');
  });

  it('needs neither iat nor ip, and ignores a state claim', async () => {
    const { iat: _iat, ip: _ip, ...bare } = base;
    expect(await problem(verifyIncomingToken(await signHs256(bare, SECRET), options))).toBe('accepted');
    const stray = await signHs256({ ...base, state: 'whatever' }, SECRET);
    expect(await verifyIncomingToken(stray, options)).not.toHaveProperty('state');
  });

  it('refuses every respelling of a token: base64url that does not re-encode to the same text', async () => {
    const token = await signHs256(base, SECRET);
    const [h, p, sig] = token.split('.') as [string, string, string];
    // A 32-byte HMAC is 43 characters: the last one carries 4 bits of signature and 2 unused bits, so four
    // characters decode to the same bytes under a lenient decoder. Only the canonical one (unused bits zero)
    // is accepted.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const same = [...alphabet].filter(
      (ch) =>
        Buffer.from(sig.slice(0, -1) + ch, 'base64url').equals(Buffer.from(sig, 'base64url')) &&
        ch !== sig.at(-1),
    );
    expect(same.length).toBe(3);
    for (const ch of same) {
      const respelled = `${h}.${p}.${sig.slice(0, -1)}${ch}`;
      expect(await problem(verifyIncomingToken(respelled, options))).toBe('malformed');
    }
    // The same for header and payload, and for padding or a length no base64 has.
    expect(await problem(verifyIncomingToken(`${h}.${p}.${sig}=`, options))).toBe('malformed');
    expect(await problem(verifyIncomingToken(`${h}.${p}.${sig}AA`, options))).toBe('malformed');
    const payloadBytes = Buffer.from(p, 'base64url');
    if (p.length % 4 !== 0) {
      const loose = [...alphabet].find(
        (ch) => ch !== p.at(-1) && Buffer.from(p.slice(0, -1) + ch, 'base64url').equals(payloadBytes),
      );
      expect(loose).toBeDefined();
      expect(await problem(verifyIncomingToken(`${h}.${p.slice(0, -1)}${loose}.${sig}`, options))).toBe(
        'malformed',
      );
    }
    // What marks it used is its signature's bytes, not its text.
    const { usedKey } = await verifyIncomingToken(token, options);
    expect(usedKey).toBe(createHash('sha256').update(Buffer.from(sig, 'base64url')).digest('hex'));
  });

  it('accepts a token signed with any configured key (rotation)', async () => {
    const token = await signHs256(base, 'the-new-key');
    expect(await problem(verifyIncomingToken(token, { ...options, secrets: [SECRET, 'the-new-key'] }))).toBe(
      'accepted',
    );
    expect(await problem(verifyIncomingToken(token, options))).toBe('signature');
  });

  it.each([
    ['expired', { exp: nowSec - 31 }],
    ['issuer', { iss: 'tenant.eu.auth0.com.evil.example' }],
    ['issuer', { iss: undefined }],
    ['claims', { sub: '' }],
    ['claims', { exp: undefined }],
    ['claims', { iat: nowSec - 10, exp: nowSec + 7200 }],
    ['claims', { iat: nowSec + 600 }],
  ])('refuses it: %s %j', async (expected, change) => {
    const token = await signHs256({ ...base, ...change }, SECRET);
    expect(await problem(verifyIncomingToken(token, options))).toBe(expected);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signHs256(base, 'another-secret');
    expect(await problem(verifyIncomingToken(token, options))).toBe('signature');
  });
});

describe('result token', () => {
  it('carries the claims validateToken() checks and callerpop’s own, short-lived', async () => {
    const token = await createResultToken({
      secret: SECRET,
      issuer: 'https://callerpop.example.com',
      auth0Domain: 'tenant.eu.auth0.com',
      sub: 'auth0|1',
      state: 's1',
      phone: '+14155550123',
      now: NOW,
      resultId: 'id-1',
    });
    expect(await verifyHs256(token, SECRET)).toEqual({
      iss: 'https://callerpop.example.com',
      aud: 'tenant.eu.auth0.com',
      sub: 'auth0|1',
      state: 's1',
      iat: nowSec,
      exp: nowSec + 120,
      jti: 'id-1',
      callerpop_user_id: 'auth0|1',
      callerpop_phone: '+14155550123',
      callerpop_verified_at: nowSec,
      callerpop_result_id: 'id-1',
    });
  });
});
