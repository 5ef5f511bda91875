/**
 * Standard Webhooks verification (https://www.standardwebhooks.com) for the Action scripts' callbacks:
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`, where the key
 * is the base64 part of a `whsec_` secret.
 *
 * Why not the `standardwebhooks` package: it runs on both runtimes, but it reads the clock with Date.now()
 * (callerpop injects its clock), parses the timestamp with parseInt (`"17e9abc"` passes) and hashes in pure JS.
 * This is the same scheme on Web Crypto: `crypto.subtle.verify` compares in constant time; the package
 * stays the reference the tests sign with, so the two cannot drift apart.
 *
 * Rotation: the sender may send several space-separated signatures (one per secret it holds) and
 * AUTH0_WEBHOOK_SECRET may hold several space-separated secrets; any valid pair passes.
 */

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
const MAX_ID_LENGTH = 256;
/**
 * Signatures one request may carry: one per secret the sender holds, two while rotating. More are refused
 * before any HMAC is computed, so a stranger cannot make one request cost (signatures × secrets) HMACs of a
 * body up to the size limit.
 */
export const MAX_SIGNATURES = 5;
/** `v1,` + 44 base64 characters each, space-separated. */
const MAX_SIGNATURE_HEADER = MAX_SIGNATURES * 49;
const TIMESTAMP = /^\d{1,12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type WebhookVerification =
  | { ok: true; id: string; timestampSeconds: number }
  | {
      ok: false;
      reason:
        | 'missing_headers'
        | 'bad_timestamp'
        | 'too_old'
        | 'too_new'
        | 'too_many_signatures'
        | 'bad_signature';
    };

function decodeBase64(value: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64.test(value) || value.length % 4 !== 0) return undefined;
  try {
    const binary = atob(value);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** Imports every secret of a (possibly space-separated) `whsec_` value (microseconds each). */
function importKeys(secrets: string): Promise<CryptoKey[]> {
  return Promise.all(
    secrets
      .split(/\s+/)
      .filter((s) => s !== '')
      .map((secret) => {
        const raw = decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
        if (!raw || raw.length === 0) throw new Error('AUTH0_WEBHOOK_SECRET is not a whsec_ base64 secret');
        return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      }),
  );
}

/** Checks one request; `nowMs` is the app's clock. Never throws for bad input. */
export async function verifyWebhook(options: {
  secrets: string;
  headers: WebhookHeaders;
  body: string;
  nowMs: number;
  toleranceSeconds?: number;
}): Promise<WebhookVerification> {
  const { id, timestamp, signature } = options.headers;
  if (!id || !timestamp || !signature || id.length > MAX_ID_LENGTH)
    return { ok: false, reason: 'missing_headers' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const ts = Number(timestamp);
  const now = Math.floor(options.nowMs / 1000);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (now - ts > tolerance) return { ok: false, reason: 'too_old' };
  if (ts - now > tolerance) return { ok: false, reason: 'too_new' };
  const parts = signature.split(' ').filter((part) => part !== '');
  if (signature.length > MAX_SIGNATURE_HEADER || parts.length > MAX_SIGNATURES)
    return { ok: false, reason: 'too_many_signatures' };

  const signed = new TextEncoder().encode(`${id}.${timestamp}.${options.body}`);
  const keys = await importKeys(options.secrets);
  const candidates = parts
    .map((part) => {
      const comma = part.indexOf(',');
      return comma > 0 && part.slice(0, comma) === 'v1' ? decodeBase64(part.slice(comma + 1)) : undefined;
    })
    .filter((bytes): bytes is Uint8Array<ArrayBuffer> => bytes !== undefined && bytes.length === 32);
  for (const candidate of candidates) {
    for (const key of keys) {
      if (await crypto.subtle.verify('HMAC', key, candidate, signed)) {
        return { ok: true, id, timestampSeconds: ts };
      }
    }
  }
  return { ok: false, reason: 'bad_signature' };
}
