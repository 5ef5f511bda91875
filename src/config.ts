import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { AUTH0_PLANS, DEFAULT_AUTH0_PLAN } from './auth0-api/index.js';
import { keyWeakness, secretWeakness } from './shared/secret-strength.js';

// zod/mini: the same schemas as classic zod, built from functions the Worker bundle can tree-shake (classic's
// methods drag in all of zod, JSON Schema included). It has no default locale: English messages, as before.
z.config(en());

/**
 * Every setting callerpop reads, parsed once at the entry (Node: the process environment and .env; Workers: env bindings)
 * and passed into the app. Nothing deeper reads the environment.
 */

const emptyAsUndefined = z.transform((v: string) => (v === '' ? undefined : v));
const trimmed = () => z.string().check(z.trim());
const withoutTrailingSlashes = z.transform((v: string) => v.replace(/\/+$/, ''));

const optionalString = z.optional(z.pipe(trimmed(), emptyAsUndefined));

const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.optional(z.pipe(z.pipe(trimmed(), emptyAsUndefined), z.optional(url)));

const list = z.pipe(
  z.optional(z.string()),
  z.transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ),
);

const intWithDefault = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z._default(z.optional(z.coerce.number().check(z.int(), z.gte(min), z.lte(max))), fallback);

/** A string of at least `min` characters; `message` says what it must be. */
const secret = (min: number, message: string) => z.string().check(z.minLength(min, message));

/** Shortest HMAC key accepted in AUTH0_WEBHOOK_SECRET (Standard Webhooks secrets are 24 to 64 bytes). */
export const MIN_WEBHOOK_KEY_BYTES = 24;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Bytes in a `whsec_` secret's key, or undefined when the rest is not base64 (as auth0-webhook.ts reads it). */
function webhookKeyBytes(secret: string): number | undefined {
  if (!secret.startsWith('whsec_')) return undefined;
  const b64 = secret.slice('whsec_'.length);
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return undefined;
  try {
    return atob(b64).length;
  } catch {
    return undefined;
  }
}

/** One or more space-separated `whsec_` secrets (rotation), each a base64 key of at least 24 bytes. */
const webhookSecrets = z.string().check(
  z.refine((value) => {
    const secrets = value.split(/\s+/).filter((s) => s !== '');
    return secrets.length > 0 && secrets.every((s) => (webhookKeyBytes(s) ?? 0) >= MIN_WEBHOOK_KEY_BYTES);
  }, `must be Standard Webhooks secrets (whsec_ then the base64 of at least ${MIN_WEBHOOK_KEY_BYTES} bytes), space-separated`),
);

/** Where a call goes after the IVR: a Twilio queue, a Client identity, a phone number or a SIP address. */
const routeTarget = z.pipe(
  trimmed().check(
    z.regex(
      /^(queue|client|number|sip):.+$/,
      'must look like queue:NAME, client:IDENTITY, number:+E164 or sip:URI',
    ),
  ),
  z.transform((v) => {
    const i = v.indexOf(':');
    return { kind: v.slice(0, i) as 'queue' | 'client' | 'number' | 'sip', target: v.slice(i + 1) };
  }),
);

const flag = z.pipe(
  z._default(z.enum(['true', 'false', '1', '0']), 'false'),
  z.transform((v) => v === 'true' || v === '1'),
);

export const configSchema = z.object({
  NODE_ENV: optionalString,
  /**
   * The explicit development switch: a development box reachable at a public URL (a tunnel for Twilio's
   * webhooks, docs/twilio.md). Without NODE_ENV=production or this, a public PUBLIC_BASE_URL or the agents'
   * OIDC settings stop start-up: they only make sense in production.
   */
  DEV_TUNNEL: flag,
  PORT: intWithDefault(8787, 1, 65535),
  /** The address the Node server listens on: loopback unless told otherwise (behind a proxy: 0.0.0.0). */
  HOST: z._default(trimmed().check(z.minLength(1)), '127.0.0.1'),
  DATABASE_URL: optionalString,
  DATABASE_AUTH_TOKEN: optionalString,
  /** The URL Twilio calls; signatures are checked against it, never against forwarded headers. */
  PUBLIC_BASE_URL: z.pipe(url, withoutTrailingSlashes),
  TWILIO_ACCOUNT_SID: z
    .string()
    .check(z.regex(/^AC[0-9a-fA-F]{32}$/, 'must be an Account SID (AC followed by 32 hex)')),
  TWILIO_AUTH_TOKEN: secret(16, 'must be the account auth token'),
  TWILIO_API_BASE_URL: z.pipe(z._default(url, 'https://api.twilio.com'), withoutTrailingSlashes),
  TWILIO_VERIFY_BASE_URL: z.pipe(z._default(url, 'https://verify.twilio.com'), withoutTrailingSlashes),
  /** Sender for OTP and caller-verification texts: a phone number or a Messaging Service SID. */
  TWILIO_FROM_NUMBER: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString,
  TWILIO_VERIFY_SERVICE_SID: optionalString,
  AUTH0_WEBHOOK_SECRET: webhookSecrets,
  AUTH0_LOG_STREAM_TOKEN: secret(16, 'must be at least 16 characters'),
  AUTH0_DOMAIN: optionalString,
  AUTH0_CLIENT_ID: optionalString,
  AUTH0_CLIENT_SECRET: optionalString,
  AUTH0_API_BASE_URL: optionalUrl,
  /**
   * The tenant's plan, whose documented Management API rate limits pace every call (src/auth0-api/rate-limits.ts).
   * Default `free`: the lowest documented rate for the calls callerpop makes most, so never above any plan's.
   */
  AUTH0_PLAN: z._default(z.enum(AUTH0_PLANS), DEFAULT_AUTH0_PLAN),
  /** Minutes between log catch-up runs on Node (0: only on demand); Workers run it on the Cron Trigger. */
  LOG_CATCH_UP_MINUTES: intWithDefault(10, 0, 24 * 60),
  /** Pages of GET /api/v2/logs (100 events each) one catch-up run applies at most. */
  LOG_CATCH_UP_PAGES: intWithDefault(20, 1, 1000),
  /**
   * Where the phone verification page sends users back to (`{base}/continue`). Default `https://{AUTH0_DOMAIN}`;
   * set it for a custom domain, a private cloud or a loopback test stand-in. Never taken from a request.
   */
  AUTH0_CONTINUE_BASE_URL: optionalUrl,
  DEFAULT_REGION: z._default(
    trimmed().check(z.toUpperCase(), z.regex(/^[A-Z]{2}$/, 'must be a two-letter region such as US or GB')),
    'US',
  ),
  ADMIN_TOKEN: secret(16, 'must be at least 16 characters'),
  /** Signs agent session cookies and CSRF tokens. */
  SESSION_SECRET: secret(32, 'must be at least 32 characters'),
  /** How agents sign in: `token` (the ADMIN_TOKEN link) or `oidc`. Unset: token locally, oidc in production. */
  AGENT_AUTH: z.optional(z.enum(['token', 'oidc'])),
  AUTH0_AGENT_CLIENT_ID: optionalString,
  AUTH0_AGENT_CLIENT_SECRET: optionalString,
  /** The OpenID Connect issuer agents sign in with. Default `https://{AUTH0_DOMAIN}/`. */
  OIDC_ISSUER: optionalUrl,
  /** A role (in AGENT_ROLES_CLAIM) or permission (in `permissions`) an agent must hold to sign in. */
  AGENT_REQUIRED_ROLE: optionalString,
  /** The namespaced ID-token claim a post-login Action fills with the user's roles. */
  AGENT_ROLES_CLAIM: z._default(trimmed().check(z.minLength(1)), 'https://callerpop/roles'),
  /** Optional role that may also read the audit log (the ADMIN_TOKEN always may). */
  AGENT_ADMIN_ROLE: optionalString,
  /** Auth0 dashboard tenant for account links, as `{region}/{tenant}` (e.g. `us/acme`). */
  AUTH0_DASHBOARD_TENANT: optionalString,
  /** Origins allowed to frame the agent pages (Flex, Salesforce…), comma-separated; cookies become SameSite=None. */
  AGENT_FRAME_ANCESTORS: list,
  /** Agent session lifetime. */
  AGENT_SESSION_HOURS: intWithDefault(12, 1, 24 * 30),
  /** How long the webhook waits for the index before answering without a match. */
  LOOKUP_DEADLINE_MS: intWithDefault(2000, 50, 10000),
  VOICE_GREETING: z._default(z.string(), 'Thanks for calling. Connecting you to an agent.'),
  /** Optional one-digit menu, e.g. "1:sales,2:support": each digit routes to queue:NAME. */
  VOICE_MENU: optionalString.check(
    z.refine(
      (v) => v === undefined || /^\s*\d\s*:\s*[^,:\s][^,]*(,\s*\d\s*:\s*[^,:\s][^,]*)*\s*$/.test(v),
      'must look like 1:sales,2:support (one digit, a colon, a queue name; comma-separated)',
    ),
  ),
  VOICE_LANGUAGE: z._default(z.string(), 'en-US'),
  ROUTE_TO: z._default(routeTarget, { kind: 'queue', target: 'support' }),
  SMS_AUTO_REPLY: optionalString,
  RETENTION_DAYS: intWithDefault(90, 1, 3650),
  AUDIT_RETENTION_DAYS: intWithDefault(365, 1, 3650),
  ENROLLMENT_POLICY: z._default(z.enum(['allow', 'warn', 'block']), 'warn'),
  SHARED_NUMBERS: list,
  /** What an Action shows when `block` refuses a number: says nothing about who else uses it. */
  ENROLLMENT_BLOCK_MESSAGE: z._default(
    trimmed().check(z.minLength(1)),
    'This phone number cannot be used for verification. Please use a different number.',
  ),
  /**
   * Codes the OTP relay sends per hour to one number for one user, and to one user in all (Auth0's own
   * default is 10); the IVR's caller check, with no user, per number.
   */
  OTP_RATE_LIMIT_PER_HOUR: intWithDefault(10, 1, 10000),
  /**
   * ISO country codes codes may be sent to, comma-separated; empty: every country. Numbers with no country
   * (international networks such as +870, +881, +882, +883) are refused unless the list has `001`,
   * libphonenumber's code for them (`001` alone adds them without restricting countries).
   */
  OTP_ALLOWED_COUNTRIES: z.pipe(
    list,
    z.array(
      z
        .string()
        .check(
          z.toUpperCase(),
          z.regex(
            /^(?:[A-Z]{2}|001)$/,
            'must list two-letter country codes (and 001 for numbers of no country)',
          ),
        ),
    ),
  ),
  /** Codes sent per hour in all (the OTP relay, the IVR's caller check, /verify): the toll-fraud budget. */
  OTP_HOURLY_BUDGET: intWithDefault(1000, 1, 1_000_000),
  /** Codes sent per hour to any one country. */
  OTP_COUNTRY_HOURLY_BUDGET: intWithDefault(500, 1, 1_000_000),
  /** Codes sent per hour to one destination range (the number less its last 3 digits: what pumping walks). */
  OTP_RANGE_HOURLY_LIMIT: intWithDefault(20, 1, 100_000),
  /** Longest text message sent, in SMS segments (160 GSM-7 or 70 UCS-2 characters for one). */
  OTP_MAX_SEGMENTS: intWithDefault(3, 1, 10),
  /**
   * `always`: every caller proves the number by a texted code before routing. `matched` (only callers whose
   * number is in the index) was retired: the difference told a caller whether their number is known.
   */
  VERIFY_CALLER: z._default(
    z.enum(['off', 'always'], {
      error: 'must be off or always (matched was retired: it told a caller whether the number is known)',
    }),
    'off',
  ),
  /** Phone verification page: seconds before a new code can be requested for the same session. */
  VERIFY_RESEND_COOLDOWN_SECONDS: intWithDefault(30, 0, 3600),
  /**
   * Phone verification page: codes sent per hour, counted per (user, number) and per user: never per number
   * alone, so another account typing a number in cannot lock out its owner.
   */
  VERIFY_MAX_SENDS_PER_HOUR: intWithDefault(5, 1, 1000),
  /** Phone verification page: code checks per hour, counted per (user, number) and per page session. */
  VERIFY_MAX_CHECKS_PER_HOUR: intWithDefault(10, 1, 1000),
});

/** The agent sign-in method in effect: explicit, or token locally and oidc in production. */
export function agentAuthMode(config: Pick<Config, 'AGENT_AUTH' | 'NODE_ENV'>): 'token' | 'oidc' {
  return config.AGENT_AUTH ?? (config.NODE_ENV === 'production' ? 'oidc' : 'token');
}

/**
 * The console address the start-up banner prints. The token link only for local token sign-in: the
 * token is also the /api bearer, and a production banner ends up in log collectors.
 */
export function agentConsoleLink(
  config: Pick<Config, 'AGENT_AUTH' | 'NODE_ENV' | 'ADMIN_TOKEN'>,
  base: string,
) {
  if (agentAuthMode(config) === 'token' && config.NODE_ENV !== 'production')
    return `${base}/agent/login?token=${encodeURIComponent(config.ADMIN_TOKEN)}`;
  return `${base}/agent`;
}

/** Settings OpenID Connect sign-in cannot start without; named so start-up says what is missing. */
export function missingAgentOidcSettings(config: Config): string[] {
  if (agentAuthMode(config) !== 'oidc') return [];
  const missing: string[] = [];
  if (!config.AUTH0_AGENT_CLIENT_ID) missing.push('AUTH0_AGENT_CLIENT_ID');
  if (!config.AUTH0_AGENT_CLIENT_SECRET) missing.push('AUTH0_AGENT_CLIENT_SECRET');
  if (!config.OIDC_ISSUER && !config.AUTH0_DOMAIN) missing.push('OIDC_ISSUER (or AUTH0_DOMAIN)');
  if (!config.AGENT_REQUIRED_ROLE) missing.push('AGENT_REQUIRED_ROLE');
  return missing;
}

/** URLs that carry secrets or sessions: production (NODE_ENV=production, and every Worker) needs https. */
const PRODUCTION_HTTPS_URLS = [
  'PUBLIC_BASE_URL',
  'TWILIO_API_BASE_URL',
  'TWILIO_VERIFY_BASE_URL',
  'AUTH0_CONTINUE_BASE_URL',
  'AUTH0_API_BASE_URL',
] as const;

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}

/** Plain-http URLs that production refuses (loopback stand-ins excepted: a local proxy, a test double). */
export function insecureProductionUrls(config: Config): string[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  for (const name of PRODUCTION_HTTPS_URLS) {
    const value = config[name];
    if (value === undefined) continue;
    const url = new URL(value);
    if (url.protocol !== 'https:' && !isLoopback(url.hostname))
      problems.push(`${name} must be an https:// URL in production`);
  }
  return problems;
}

/** Settings that only make sense in production, refused outside it unless DEV_TUNNEL says otherwise. */
export function productionOnlySettings(config: Config): string[] {
  if (config.NODE_ENV === 'production' || config.DEV_TUNNEL) return [];
  const problems: string[] = [];
  const host = new URL(config.PUBLIC_BASE_URL).hostname;
  if (!isLoopback(host))
    problems.push(
      `PUBLIC_BASE_URL (${host}) is a public address, but NODE_ENV is not production: set NODE_ENV=production, or DEV_TUNNEL=true for a development box behind a tunnel (it then generates secrets and prints the admin token)`,
    );
  const oidc = [
    ...(config.AGENT_AUTH === 'oidc' ? ['AGENT_AUTH=oidc'] : []),
    ...(['AUTH0_AGENT_CLIENT_ID', 'AUTH0_AGENT_CLIENT_SECRET', 'OIDC_ISSUER'] as const).filter(
      (name) => config[name] !== undefined,
    ),
  ];
  if (oidc.length > 0)
    problems.push(
      `${oidc.join(', ')}: agents' OpenID Connect sign-in is a production setting, but NODE_ENV is not production: set NODE_ENV=production, or DEV_TUNNEL=true to try it on a development box`,
    );
  return problems;
}

/** Secrets production refuses for being guessable: named, with why (src/shared/secret-strength.ts). */
export function weakProductionSecrets(config: Config): string[] {
  if (config.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  for (const name of ['ADMIN_TOKEN', 'SESSION_SECRET', 'AUTH0_LOG_STREAM_TOKEN'] as const) {
    const weakness = secretWeakness(config[name]);
    if (weakness) problems.push(`${name} is too weak for production: ${weakness}`);
  }
  for (const secret of config.AUTH0_WEBHOOK_SECRET.split(/\s+/).filter((s) => s !== '')) {
    const weakness = keyWeakness(atob(secret.slice('whsec_'.length)));
    if (weakness) problems.push(`AUTH0_WEBHOOK_SECRET is too weak for production: ${weakness}`);
  }
  return problems;
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses raw variables; the error names every variable that is missing or wrong. */
export function parseConfig(raw: ConfigInput): Config {
  // An empty variable means "not set" (as in a copied .env.example), so defaults apply to it.
  const input: ConfigInput = {};
  for (const [key, value] of Object.entries(raw))
    if (value !== undefined && value.trim() !== '') input[key] = value;
  const result = configSchema.safeParse(input);
  if (result.success) {
    const problems = [
      ...missingAgentOidcSettings(result.data).map(
        (name) => `${name} is required for agent sign-in with OIDC (AGENT_AUTH)`,
      ),
      ...insecureProductionUrls(result.data),
      ...productionOnlySettings(result.data),
      ...weakProductionSecrets(result.data),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const value = input[name];
    return value === undefined || value === '' ? `${name} is required` : `${name} ${issue.message}`;
  });
  throw new ConfigError(problems);
}
