/**
 * Management API access tokens by the client-credentials grant: `POST {base}/oauth/token`, form-encoded
 * `grant_type=client_credentials`, `client_id`, `client_secret`, `audience=https://{domain}/api/v2/`
 * (main/docs/secure/tokens/access-tokens/management-api-access-tokens/get-management-api-access-tokens-for-
 * production.mdx, "Get access tokens"; main/docs/api/authentication/client-credential-flow/get-token.mdx for
 * `expires_in`). A token is kept until shortly before it expires, and concurrent callers share one request.
 */

export interface ClientCredentials {
  /** Where `/oauth/token` is reached: `https://{domain}`, or AUTH0_API_BASE_URL. */
  baseUrl: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
  now: () => number;
}

export interface TokenSource {
  get(): Promise<string>;
  /** Forget the cached token (Auth0 answered 401 with it). */
  invalidate(): void;
}

/** An Auth0 error answer, shaped like the SDK's errors (`statusCode`, `body`) so callers describe both alike. */
export class TokenRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: { error?: string; message?: string },
  ) {
    super(`Auth0 token request failed: HTTP ${statusCode} ${body.message ?? body.error ?? ''}`.trim());
    this.name = 'TokenRequestError';
  }
}

/** Renew this long before expiry: a minute, or a tenth of a short lifetime. */
const EARLY_MS = 60_000;

export function createTokenSource(credentials: ClientCredentials): TokenSource {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function request(): Promise<string> {
    const response = await credentials.fetch(`${credentials.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        audience: `https://${credentials.domain}/api/v2/`,
      }).toString(),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok || typeof body.access_token !== 'string') {
      const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
      throw new TokenRequestError(response.status, {
        error: text(body.error),
        message: text(body.error_description) ?? text(body.message) ?? 'no access_token in the answer',
      });
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 86_400) * 1000;
    cached = {
      token: body.access_token,
      renewAt: credentials.now() + lifetimeMs - Math.min(EARLY_MS, lifetimeMs / 10),
    };
    return cached.token;
  }

  return {
    get() {
      if (cached && credentials.now() < cached.renewAt) return Promise.resolve(cached.token);
      pending ??= request().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}
