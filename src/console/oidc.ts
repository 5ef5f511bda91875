import * as oauth from 'oauth4webapi';
import type { Config } from '../config.js';
import type { NewSession } from './session.js';

/**
 * Agent sign-in with OpenID Connect (authorization code + PKCE, S256) against the Auth0 tenant, or any
 * OIDC issuer. oauth4webapi is fetch- and Web-Crypto-only, so this runs unchanged on Workers.
 */

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  requiredRole: string;
  rolesClaim: string;
  adminRole: string | undefined;
  /** The issuer's discovery, once fetched: settings are made once per app (agentAuthRoutes). */
  discovery?: Promise<oauth.AuthorizationServer> | undefined;
}

export function oidcSettings(config: Config): OidcSettings {
  const issuer = config.OIDC_ISSUER ?? (config.AUTH0_DOMAIN ? `https://${config.AUTH0_DOMAIN}/` : undefined);
  if (
    !issuer ||
    !config.AUTH0_AGENT_CLIENT_ID ||
    !config.AUTH0_AGENT_CLIENT_SECRET ||
    !config.AGENT_REQUIRED_ROLE
  ) {
    // parseConfig refuses to start without these; reaching here means a hand-built config.
    throw new Error('OIDC sign-in is not configured');
  }
  return {
    issuer: new URL(issuer),
    clientId: config.AUTH0_AGENT_CLIENT_ID,
    clientSecret: config.AUTH0_AGENT_CLIENT_SECRET,
    redirectUri: `${config.PUBLIC_BASE_URL}/agent/callback`,
    requiredRole: config.AGENT_REQUIRED_ROLE,
    rolesClaim: config.AGENT_ROLES_CLAIM,
    adminRole: config.AGENT_ADMIN_ROLE,
  };
}

/**
 * Plain http is refused except for an issuer on a loopback address: a development IdP on the same
 * machine, whose traffic never leaves it (the same exception OAuth makes for loopback redirect URIs).
 */
function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

function requestOptions(settings: OidcSettings, fetchImpl: typeof fetch) {
  return {
    [oauth.customFetch]: fetchImpl,
    [oauth.allowInsecureRequests]: settings.issuer.protocol === 'http:' && isLoopback(settings.issuer),
    signal: AbortSignal.timeout(10_000),
  };
}

/** The issuer's discovery document, fetched once per settings object (one per app), retried after a failure. */
async function authorizationServer(settings: OidcSettings, fetchImpl: typeof fetch) {
  if (!settings.discovery) {
    const pending = oauth
      .discoveryRequest(settings.issuer, { algorithm: 'oidc', ...requestOptions(settings, fetchImpl) })
      .then((response) => oauth.processDiscoveryResponse(settings.issuer, response));
    settings.discovery = pending;
    // A failed discovery is retried on the next sign-in rather than cached.
    pending.catch(() => {
      if (settings.discovery === pending) settings.discovery = undefined;
    });
  }
  return settings.discovery;
}

export interface AuthorizationStart {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

export async function startAuthorization(
  settings: OidcSettings,
  fetchImpl: typeof fetch,
): Promise<AuthorizationStart> {
  const as = await authorizationServer(settings, fetchImpl);
  if (!as.authorization_endpoint) throw new Error('issuer has no authorization_endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('redirect_uri', settings.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'openid profile email');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  return { url: url.href, state, nonce, verifier };
}

export type SignInResult =
  | { ok: true; session: NewSession }
  | { ok: false; reason: 'missing_role' | 'idp_error' | 'invalid_response'; sub?: string; message: string };

function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Exchanges the code (with the PKCE verifier), validates the ID token, and checks the required role. */
export async function finishAuthorization(
  settings: OidcSettings,
  fetchImpl: typeof fetch,
  callbackUrl: URL,
  tx: { state: string; nonce: string; verifier: string },
): Promise<SignInResult> {
  const as = await authorizationServer(settings, fetchImpl);
  const client: oauth.Client = { client_id: settings.clientId };
  const auth = oauth.ClientSecretPost(settings.clientSecret);
  let claims: oauth.IDToken | undefined;
  try {
    const params = oauth.validateAuthResponse(as, client, callbackUrl, tx.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      params,
      settings.redirectUri,
      tx.verifier,
      requestOptions(settings, fetchImpl),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: tx.nonce,
      requireIdToken: true,
    });
    claims = oauth.getValidatedIdTokenClaims(result);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      return { ok: false, reason: 'idp_error', message: err.error_description ?? err.error };
    }
    return { ok: false, reason: 'invalid_response', message: (err as Error).message };
  }
  if (!claims) return { ok: false, reason: 'invalid_response', message: 'no ID token' };
  const held = new Set([...claimValues(claims[settings.rolesClaim]), ...claimValues(claims.permissions)]);
  const sub = `oidc:${claims.sub}`;
  if (!held.has(settings.requiredRole)) {
    return {
      ok: false,
      reason: 'missing_role',
      sub,
      message: `the ${settings.requiredRole} role is required`,
    };
  }
  const email = typeof claims.email === 'string' ? claims.email : null;
  const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name : (email ?? claims.sub);
  return {
    ok: true,
    session: {
      sub,
      name,
      email,
      method: 'oidc',
      admin: settings.adminRole !== undefined && held.has(settings.adminRole),
      roles: [...held].sort().slice(0, 100),
    },
  };
}
