import type { ManagementApi } from '../auth0-api/index.js';

/**
 * The scopes Auth0 granted the machine-to-machine application, read from its client-credentials token. The
 * SDK's token provider (and callerpop's, src/auth0-api/token.ts) keeps only `access_token` and `expires_in`,
 * so:
 * - first the token the shared client already holds: a Management API token is a JWT whose payload carries
 *   `scope`, space-separated (main/docs/manage-users/organizations/using-tokens.mdx, the M2M token example;
 *   validate-access-tokens.mdx);
 * - else one token request of our own, whose answer carries "the scopes granted" as `scope`
 *   (main/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-
 *   production.mdx, "Get access tokens").
 * Reading a claim needs no signature check: Auth0 enforces the scopes; this only reports them.
 */

export interface TokenRequestSettings {
  /** `https://{domain}`, or AUTH0_API_BASE_URL. */
  baseUrl: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
}

/** The granted scopes, or undefined when neither the token nor its answer names them. */
export async function grantedScopes(
  api: ManagementApi,
  request: TokenRequestSettings,
): Promise<ReadonlySet<string> | undefined> {
  const fromClaim = scopeClaim(await api.token.get());
  if (fromClaim !== undefined) return toSet(fromClaim);
  const response = await request.fetch(`${request.baseUrl.replace(/\/+$/, '')}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: request.clientId,
      client_secret: request.clientSecret,
      audience: `https://${request.domain}/api/v2/`,
    }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as { scope?: unknown };
  return response.ok && typeof body.scope === 'string' ? toSet(body.scope) : undefined;
}

function toSet(scope: string): ReadonlySet<string> {
  return new Set(scope.split(' ').filter((s) => s !== ''));
}

/** The `scope` claim of a JWT, or undefined when the token is no JWT or carries none. */
export function scopeClaim(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return undefined;
  try {
    const claims = JSON.parse(new TextDecoder().decode(base64UrlBytes(payload))) as { scope?: unknown };
    return typeof claims.scope === 'string' ? claims.scope : undefined;
  } catch {
    return undefined;
  }
}

function base64UrlBytes(text: string): Uint8Array {
  const b64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
