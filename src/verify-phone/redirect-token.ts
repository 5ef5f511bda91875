/**
 * The two signed tokens of the phone verification redirect, HS256 with Web Crypto (runs on Node and Workers).
 * What Auth0 puts in and checks is in Auth0's "Redirect with Actions" page
 * (auth0/docs-v2 main/docs/customize/actions/redirect-with-actions.mdx):
 * - incoming: made by the post-login Action with `api.redirect.encodeToken()`. "Pass data to the external
 *   site" lists its claims: `sub` (the user id), `iss` (the tenant's hostname), `exp`, `ip` and the payload's
 *   claims; real tokens also carry `iat`. There is no `state` claim: Auth0 adds `state` as a query parameter
 *   beside the token ("Overview"), so the session is bound to that parameter, not to the token.
 * - outgoing: the result callerpop hands back to Auth0's `/continue`. `api.redirect.validateToken()` checks
 *   its signature, its expiry and that its `state` claim is the transaction's ("Pass information back to the
 *   Action"), so it carries `state`, `sub`, `iss`, `iat` and `exp`. Whether validateToken() returns those
 *   standard claims is not documented ("other custom claims will be exposed as the payload"), so what the
 *   Action reads back sits in claims of callerpop's own (`callerpop_*`).
 *
 * Both are signed with keys derived from the secrets the Action and callerpop already share
 * (CALLERPOP_SECRET in the Action, AUTH0_WEBHOOK_SECRET here), so the Standard Webhooks key and the JWT key
 * are never the same bytes. Either side may hold several space-separated secrets while rotating: the first
 * signs, any verifies (docs/auth0.md, "Rotating the secret"). The Action derives them the same way
 * (actions/verify-phone.js).
 */

export const REDIRECT_KEY_LABEL = 'callerpop/verify-phone/redirect-token/v1';
/** Longest token accepted: far above what the Action makes, far below anything costly to hash. */
const MAX_TOKEN_LENGTH = 4096;
/** Clock skew tolerated between Auth0 and callerpop. */
const LEEWAY_SECONDS = 30;
/** A redirect token that claims to live longer than this is not the short-lived token the Action makes. */
const MAX_INCOMING_LIFETIME_SECONDS = 3600;
/** How long the result token is valid: the browser follows the redirect at once. */
export const RESULT_TOKEN_TTL_SECONDS = 120;

export type RedirectTokenProblem = 'malformed' | 'signature' | 'expired' | 'issuer' | 'claims';

export class RedirectTokenError extends Error {
  constructor(readonly problem: RedirectTokenProblem) {
    super(`redirect token refused: ${problem}`);
    this.name = 'RedirectTokenError';
  }
}

export interface IncomingClaims {
  /** Auth0 user id. */
  sub: string;
  exp: number;
  /** Marks the token used ({@link usedTokenKey}): the same for every spelling of the token. */
  usedKey: string;
  /** The number in the user's profile, as typed at sign-up (unvalidated), when the Action knows one. */
  phone?: string;
  /** The number callerpop verified before (E.164), when the profile now names another one. */
  verifiedPhone?: string;
  /** The account as the page shows it (the Action's masked email), so a person sees whose number this is. */
  account?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Strict base64url: only the alphabet, no padding, and the text must be the one encoding of its bytes. A
 * length of 4n+1 is never valid, and the unused low bits of the last character must be zero: otherwise one
 * token would have several spellings (its last character up to four), each a "new" token to a used-token list.
 */
function base64UrlDecode(input: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(input) || input.length % 4 === 1) throw new RedirectTokenError('malformed');
  const padded = input.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (input.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    throw new RedirectTokenError('malformed');
  }
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  if (base64UrlEncode(bytes) !== input) throw new RedirectTokenError('malformed');
  return bytes;
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/** The JWT key: HMAC-SHA256(shared secret, label) in base64url, exactly as the Action computes it. */
export async function deriveRedirectSecret(sharedSecret: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    'HMAC',
    await hmacKey(sharedSecret),
    encoder.encode(REDIRECT_KEY_LABEL),
  );
  return base64UrlEncode(new Uint8Array(mac));
}

/**
 * One JWT key per space-separated shared secret, in their order: the first signs what callerpop makes, every
 * one is accepted on what comes in. Each secret is derived on its own, never the whole string.
 */
export async function deriveRedirectSecrets(sharedSecrets: string): Promise<string[]> {
  const secrets = sharedSecrets.split(/\s+/).filter((s) => s !== '');
  if (secrets.length === 0) throw new Error('no shared secret to derive the redirect key from');
  return Promise.all(secrets.map(deriveRedirectSecret));
}

export async function sha256Hex(input: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(input))));
}

export async function signHs256(claims: Record<string, unknown>, secret: string): Promise<string> {
  const header = base64UrlEncode(encoder.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const payload = base64UrlEncode(encoder.encode(JSON.stringify(claims)));
  const input = `${header}.${payload}`;
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(input));
  return `${input}.${base64UrlEncode(new Uint8Array(mac))}`;
}

/** A verified token: its claims, and the bytes of its signature (what names it, whatever its spelling). */
export interface VerifiedToken {
  claims: Record<string, unknown>;
  signature: Uint8Array<ArrayBuffer>;
}

/**
 * Checks the signature (constant time, by Web Crypto) against each secret in turn and returns the claims
 * with the signature's bytes; nothing else.
 */
export async function verifyHs256Token(
  token: string,
  secrets: string | readonly string[],
): Promise<VerifiedToken> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new RedirectTokenError('malformed');
  const parts = token.split('.');
  if (parts.length !== 3) throw new RedirectTokenError('malformed');
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(decoder.decode(base64UrlDecode(h)));
    claims = JSON.parse(decoder.decode(base64UrlDecode(p)));
  } catch {
    throw new RedirectTokenError('malformed');
  }
  // Only HS256: "none" and every other algorithm are refused before any key is used.
  if (!isRecord(header) || header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT'))
    throw new RedirectTokenError('malformed');
  if (!isRecord(claims)) throw new RedirectTokenError('malformed');
  const signature = base64UrlDecode(s);
  const signed = encoder.encode(`${h}.${p}`);
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets)
    if (await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, signed))
      return { claims, signature };
  throw new RedirectTokenError('signature');
}

/** {@link verifyHs256Token}'s claims alone. */
export async function verifyHs256(
  token: string,
  secrets: string | readonly string[],
): Promise<Record<string, unknown>> {
  return (await verifyHs256Token(token, secrets)).claims;
}

/**
 * What marks a token used: SHA-256 (hex) of its decoded signature bytes. The HMAC covers header and
 * payload, so equal signature bytes mean the same token, and a respelling cannot pass for a new one.
 */
export async function usedTokenKey(signature: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', signature)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Verifies the token the Action made: signature, expiry and issuer (the configured Auth0 domain, never the
 * request). `iat` and `ip` are optional; a `state` claim is neither needed nor read (Auth0 makes none).
 */
export async function verifyIncomingToken(
  token: string,
  options: { secrets: readonly string[]; auth0Domain: string; now: number },
): Promise<IncomingClaims> {
  const { claims, signature } = await verifyHs256Token(token, options.secrets);
  const nowSec = Math.floor(options.now / 1000);
  const { exp, iat, iss, sub } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new RedirectTokenError('claims');
  if (exp + LEEWAY_SECONDS <= nowSec) throw new RedirectTokenError('expired');
  if (typeof iat === 'number' && (iat > nowSec + LEEWAY_SECONDS || exp - iat > MAX_INCOMING_LIFETIME_SECONDS))
    throw new RedirectTokenError('claims');
  if (typeof iat !== 'number' && exp - nowSec > MAX_INCOMING_LIFETIME_SECONDS)
    throw new RedirectTokenError('claims');
  if (!issuerMatches(iss, options.auth0Domain)) throw new RedirectTokenError('issuer');
  if (typeof sub !== 'string' || sub === '' || sub.length > 256) throw new RedirectTokenError('claims');
  const result: IncomingClaims = { sub, exp, usedKey: await usedTokenKey(signature) };
  if (typeof claims.phone === 'string' && claims.phone.trim() !== '')
    result.phone = claims.phone.slice(0, 64);
  if (typeof claims.verified_phone === 'string' && claims.verified_phone !== '')
    result.verifiedPhone = claims.verified_phone;
  if (typeof claims.account === 'string' && claims.account.trim() !== '')
    result.account = claims.account.trim().slice(0, 100);
  return result;
}

/**
 * The claims the Action reads back. Its own names: validateToken() may return only custom claims, so the
 * Action compares `callerpop_user_id` with `event.user.user_id` rather than `sub`.
 */
export const RESULT_CLAIMS = {
  userId: 'callerpop_user_id',
  phone: 'callerpop_phone',
  verifiedAt: 'callerpop_verified_at',
  /** Names the page session: the Action sends it back in phone.verified, and only then is the number indexed. */
  resultId: 'callerpop_result_id',
} as const;

/**
 * The result token for Auth0's `/continue`: the standard claims validateToken() checks (`state` from the
 * query the session was opened with, `sub`, `iss`, `iat`, `exp`) plus callerpop's own.
 */
export async function createResultToken(input: {
  secret: string;
  issuer: string;
  auth0Domain: string;
  sub: string;
  state: string;
  phone: string;
  now: number;
  /** The page session's result id: the same in every result token the session makes. */
  resultId: string;
}): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  return signHs256(
    {
      iss: input.issuer,
      aud: input.auth0Domain,
      sub: input.sub,
      state: input.state,
      iat,
      exp: iat + RESULT_TOKEN_TTL_SECONDS,
      jti: input.resultId,
      [RESULT_CLAIMS.userId]: input.sub,
      [RESULT_CLAIMS.phone]: input.phone,
      [RESULT_CLAIMS.verifiedAt]: iat,
      [RESULT_CLAIMS.resultId]: input.resultId,
    },
    input.secret,
  );
}

/** "tenant.eu.auth0.com" from whatever form AUTH0_DOMAIN was configured in. */
export function bareDomain(domain: string): string {
  return domain
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function issuerMatches(iss: unknown, auth0Domain: string): boolean {
  if (typeof iss !== 'string') return false;
  const domain = bareDomain(auth0Domain);
  // Auth0 writes the bare tenant domain; the URL form is what its other tokens use, so both are accepted.
  return iss === domain || iss === `https://${domain}/`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
