import type { Config } from '../config.js';
import { limitFetch } from './limited-fetch.js';
import { defaultSleep, ManagementRateLimiter } from './rate-limiter.js';
import { type Auth0Plan, bucketsFor } from './rate-limits.js';
import { createTokenSource, type TokenSource } from './token.js';

/**
 * The one Management API client of a process: a token source, a rate limiter and the `fetch` they share,
 * handed to whichever per-resource clients of the `auth0` SDK a caller needs:
 *
 *   import { LogsClient } from 'auth0/logs';
 *   const logs = new LogsClient(api.clientOptions);
 *
 * Per-resource clients, not the SDK's ManagementClient: that one builds every resource (56 KB gzipped in
 * the Worker); each per-resource client brings only its own code and the shared core.
 */

export interface ManagementSettings {
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Where `https://{domain}` is really reached (AUTH0_API_BASE_URL: a private cloud, a test server). */
  apiBaseUrl?: string;
  plan: Auth0Plan;
  fetch: typeof fetch;
  /** Requests in flight at most (the limiter lowers it on 429s). */
  maxConcurrency?: number;
  /** 429s one request waits out before its caller gets the 429 (default 8). */
  maxThrottled?: number;
  now?: () => number;
  sleep?: (ms: number, cancel: AbortSignal) => Promise<void>;
}

/** The options every per-resource client takes (BaseClientOptions of the SDK). */
export interface ManagementClientOptions {
  baseUrl: string;
  token: () => Promise<string>;
  fetch: typeof fetch;
  /** The limiter retries 429s; the SDK must not retry behind its back. */
  maxRetries: number;
  /**
   * The SDK starts its timeout before the request waits its turn in the limiter, so it is long; each attempt
   * has its own 30 s deadline once sent (limited-fetch.ts).
   */
  timeoutInSeconds: number;
}

export interface ManagementApi {
  readonly domain: string;
  readonly plan: Auth0Plan;
  readonly limiter: ManagementRateLimiter;
  readonly token: TokenSource;
  readonly clientOptions: ManagementClientOptions;
}

const SDK_TIMEOUT_SECONDS = 24 * 60 * 60;

export function createManagementApi(settings: ManagementSettings): ManagementApi {
  const now = settings.now ?? Date.now;
  const origin = (settings.apiBaseUrl ?? `https://${settings.domain}`).replace(/\/+$/, '');
  const token = createTokenSource({
    baseUrl: origin,
    domain: settings.domain,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    fetch: settings.fetch,
    now,
  });
  const limiter = new ManagementRateLimiter({
    bucketsFor: (route) => bucketsFor(settings.plan, route.method, route.path),
    maxConcurrency: settings.maxConcurrency,
    now,
    sleep: settings.sleep ?? defaultSleep,
  });
  const limited = limitFetch(settings.fetch, { limiter, now, maxThrottled: settings.maxThrottled });
  // A token Auth0 no longer accepts (revoked, rotated secret) is dropped so the next call gets a fresh one.
  const fetchWithToken: typeof fetch = async (input, init) => {
    const response = await limited(input, init);
    if (response.status === 401) token.invalidate();
    return response;
  };
  return {
    domain: settings.domain,
    plan: settings.plan,
    limiter,
    token,
    clientOptions: {
      baseUrl: `${origin}/api/v2`,
      token: () => token.get(),
      fetch: fetchWithToken,
      maxRetries: 0,
      timeoutInSeconds: SDK_TIMEOUT_SECONDS,
    },
  };
}

/** The process's client from configuration, or undefined while the Management API is not configured. */
export function managementApiFrom(
  config: Parameters<typeof managementSettingsFrom>[0],
  outbound: typeof fetch,
): ManagementApi | undefined {
  const settings = managementSettingsFrom(config, outbound);
  return settings ? createManagementApi(settings) : undefined;
}

/** The settings from configuration, or undefined while AUTH0_DOMAIN / AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET are not all set. */
export function managementSettingsFrom(
  config: Pick<
    Config,
    'AUTH0_DOMAIN' | 'AUTH0_CLIENT_ID' | 'AUTH0_CLIENT_SECRET' | 'AUTH0_API_BASE_URL' | 'AUTH0_PLAN'
  >,
  outbound: typeof fetch,
): ManagementSettings | undefined {
  const { AUTH0_DOMAIN: domain, AUTH0_CLIENT_ID: clientId, AUTH0_CLIENT_SECRET: clientSecret } = config;
  if (!domain || !clientId || !clientSecret) return undefined;
  return {
    domain,
    clientId,
    clientSecret,
    apiBaseUrl: config.AUTH0_API_BASE_URL,
    plan: config.AUTH0_PLAN,
    fetch: outbound,
  };
}

/** An SDK error's HTTP status, read by shape (the SDK's error classes live in its root entry). */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** One line for a log or a run record: Auth0's status and message, never a token or a request body. */
export function describeManagementError(error: unknown, scopes?: string): string {
  const status = httpStatusOf(error);
  if (status === undefined) return (error instanceof Error ? error.message : String(error)).slice(0, 300);
  const body = (error as { body?: unknown }).body;
  const detail =
    body && typeof body === 'object'
      ? ((body as { message?: unknown; error?: unknown }).message ?? (body as { error?: unknown }).error)
      : undefined;
  const hint =
    status === 401
      ? ' (check AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET)'
      : status === 403
        ? ` (the application is not granted ${scopes ?? 'the scope this call needs'})`
        : '';
  return `HTTP ${status}${typeof detail === 'string' ? ` ${detail.slice(0, 200)}` : ''}${hint}`;
}
