import { z } from 'zod';

/**
 * Every setting callerpop reads, parsed once at the entry (Node: the process environment and .env; Workers: env bindings)
 * and passed into the app. Nothing deeper reads the environment.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(url.optional())
  .optional();

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );

const intWithDefault = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).optional().default(fallback);

/** Where a call goes after the IVR: a Twilio queue, a Client identity, a phone number or a SIP address. */
const routeTarget = z
  .string()
  .trim()
  .regex(
    /^(queue|client|number|sip):.+$/,
    'must look like queue:NAME, client:IDENTITY, number:+E164 or sip:URI',
  )
  .transform((v) => {
    const i = v.indexOf(':');
    return { kind: v.slice(0, i) as 'queue' | 'client' | 'number' | 'sip', target: v.slice(i + 1) };
  });

export const configSchema = z.object({
  NODE_ENV: optionalString,
  PORT: intWithDefault(8787, 1, 65535),
  DATABASE_URL: optionalString,
  DATABASE_AUTH_TOKEN: optionalString,
  /** The URL Twilio calls; signatures are checked against it, never against forwarded headers. */
  PUBLIC_BASE_URL: url.transform((v) => v.replace(/\/+$/, '')),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must be an Account SID (AC followed by 32 hex)'),
  TWILIO_AUTH_TOKEN: z.string().min(16, 'must be the account auth token'),
  TWILIO_API_BASE_URL: url.default('https://api.twilio.com').transform((v) => v.replace(/\/+$/, '')),
  TWILIO_VERIFY_BASE_URL: url.default('https://verify.twilio.com').transform((v) => v.replace(/\/+$/, '')),
  /** Sender for OTP and caller-verification texts: a phone number or a Messaging Service SID. */
  TWILIO_FROM_NUMBER: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString,
  TWILIO_VERIFY_SERVICE_SID: optionalString,
  AUTH0_WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must be a Standard Webhooks secret (whsec_…)'),
  AUTH0_LOG_STREAM_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  AUTH0_DOMAIN: optionalString,
  AUTH0_CLIENT_ID: optionalString,
  AUTH0_CLIENT_SECRET: optionalString,
  AUTH0_API_BASE_URL: optionalUrl,
  DEFAULT_REGION: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'must be a two-letter region such as US or GB')
    .default('US'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  /** Signs agent session cookies and CSRF tokens. */
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** How long the webhook waits for the index before answering without a match. */
  LOOKUP_DEADLINE_MS: intWithDefault(2000, 50, 10000),
  VOICE_GREETING: z.string().default('Thanks for calling. Connecting you to an agent.'),
  /** Optional one-digit menu, e.g. "1:sales,2:support": each digit routes to queue:NAME. */
  VOICE_MENU: optionalString,
  VOICE_LANGUAGE: z.string().default('en-US'),
  ROUTE_TO: routeTarget.default({ kind: 'queue', target: 'support' }),
  SMS_AUTO_REPLY: optionalString,
  RETENTION_DAYS: intWithDefault(90, 1, 3650),
  ENROLLMENT_POLICY: z.enum(['allow', 'warn', 'block']).default('warn'),
  SHARED_NUMBERS: list,
  VERIFY_CALLER: z.enum(['off', 'matched', 'always']).default('off'),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses raw variables; the error names every variable that is missing or wrong. */
export function parseConfig(input: ConfigInput): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const value = input[name];
    return value === undefined || value === '' ? `${name} is required` : `${name} ${issue.message}`;
  });
  throw new ConfigError(problems);
}
