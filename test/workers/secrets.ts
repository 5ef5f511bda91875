/**
 * The workerd suite's configuration, given to the Worker as bindings (as `wrangler secret put` would).
 * Shaped like real secrets; tests read them back from `env` to sign exactly as Twilio and the Actions do.
 */
export const WORKER_TEST_SECRETS = {
  PUBLIC_BASE_URL: 'https://callerpop.workers.test',
  TWILIO_ACCOUNT_SID: `AC${'fedcba9876543210'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'workers-auth-token-0123456789abcdef',
  AUTH0_WEBHOOK_SECRET: `whsec_${btoa('callerpop-workers-webhook-secret!')}`,
  AUTH0_LOG_STREAM_TOKEN: 'workers-log-stream-token-0123456789',
  ADMIN_TOKEN: 'workers-admin-token-0123456789abcdef',
  SESSION_SECRET: 'workers-session-secret-0123456789abcdef-0123456789',
  // The console's sign-in link (ADMIN_TOKEN); OIDC sign-in is covered by the Node suite.
  AGENT_AUTH: 'token',
} as const;
