/**
 * One line for the summary from any failure. Management API errors are recognized by shape, so the SDK
 * (large) need not be loaded for a --file import that never calls Auth0.
 */
export function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const e = error as { statusCode?: number; body?: unknown; message?: string };
    const body = (typeof e.body === 'object' && e.body !== null ? e.body : {}) as {
      message?: string;
      error?: string;
    };
    const detail = body.message ?? body.error ?? e.message ?? 'request failed';
    const hint =
      e.statusCode === 403
        ? ' (the application needs the read:users scope for exports and read:authentication_methods for --mfa)'
        : e.statusCode === 401
          ? ' (check AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET and that the application is authorized for the Management API)'
          : '';
    return `HTTP ${e.statusCode ?? '?'} ${detail}${hint}`;
  }
  return error instanceof Error ? error.message : String(error);
}
