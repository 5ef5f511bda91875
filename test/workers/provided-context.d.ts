/**
 * What global-setup.ts provides to the workerd suite (it declares the same for its Node side, which this
 * suite's tsconfig does not include).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    /** The Management API stand-in (GET /api/v2/logs) the log catch-up's Cron Trigger reads. */
    auth0: { url: string; domain: string; clientId: string; clientSecret: string; logIds: string[] };
  }
}

export {};
