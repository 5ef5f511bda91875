import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AUTH0_PLANS, DEFAULT_AUTH0_PLAN } from '../auth0-api/index.js';

export const HELP = `Usage: npm run backfill -- [options]

Fills the callerpop index from an existing Auth0 tenant: creates a users export job (or reads an export
file), streams it into the index, and with --mfa asks Auth0 for each MFA user's SMS/voice numbers.
Killed runs resume where they stopped; running twice adds nothing twice.

Options:
  --file PATH            import an export file already on disk (.json, .ndjson, .gz); no Auth0 access needed
  --mfa                  index SMS/voice MFA numbers: one authentication-methods call per user whose
                         "multifactor" lists guardian/sms/voice, paced by Auth0's rate-limit headers
  --prune                remove links the export says are gone (and links of users missing from a complete export);
                         with --file it needs --as-of
  --complete             with --file --prune: the file is a whole-tenant export, so users missing from it are
                         gone and their links are removed too (never assumed: a one-connection file would wipe
                         every other connection's users)
  --dry-run              report what would change; write nothing to the index
  --connection-id ID     export only this connection (con_…); users missing from it are then never pruned
  --restart              abandon the unfinished run over the same input (its checkpoint and export job) and start over
  --concurrency N        most Management API calls in flight (default 8; adapts down on 429s)
  --batch-size N         users per transaction (default 500)
  --region XX            region for national numbers (default DEFAULT_REGION, else US)
  --as-of ISO-DATE       the time a --file export was taken: removals are dated with it, and users without
                         updated_at too. Required with --prune (a file's modification time is when it was
                         copied, later than the export: pruning as of it would undo what Actions wrote since);
                         without --prune it defaults to the file's modification time
  --work-dir DIR         where export downloads are kept (default <data dir>/backfill)
  --progress MODE        auto | bar | lines | none (default auto: a bar on a terminal, lines otherwise)
  --poll-interval MS     how often to poll the export job (default 3000)
  -h, --help             show this help

Environment (a .env file is read if present):
  AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET   Management API client (client credentials);
                         scopes read:users (export) and read:authentication_methods (--mfa)
  AUTH0_API_BASE_URL     reach the Management API here instead of https://AUTH0_DOMAIN (private cloud, tests)
  AUTH0_PLAN             the tenant's plan, whose documented rate limits pace every call: free (default),
                         essentials, professional, enterprise, enterprise-non-production
  DATABASE_URL, DATABASE_AUTH_TOKEN   the index (default the same file as npm start: data/callerpop.db)
  DEFAULT_REGION         default for --region

Exit status: 0 done, 1 failed (reason printed; run again to resume), 2 bad usage, 130 interrupted.`;

export class UsageError extends Error {}

const positiveInt = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const schema = z.object({
  file: optionalText,
  mfa: z.boolean(),
  prune: z.boolean(),
  complete: z.boolean(),
  dryRun: z.boolean(),
  connectionId: optionalText.pipe(
    z
      .string()
      .regex(/^con_[A-Za-z0-9]+$/, '--connection-id must look like con_…')
      .optional(),
  ),
  restart: z.boolean(),
  concurrency: positiveInt('--concurrency', 1, 64).default(8),
  batchSize: positiveInt('--batch-size', 1, 5000).default(500),
  region: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, '--region (or DEFAULT_REGION) must be two letters such as US or GB'),
  asOf: optionalText.pipe(
    z
      .string()
      .refine((v) => !Number.isNaN(Date.parse(v)), '--as-of must be a date such as 2026-01-31T12:00:00Z')
      .transform((v) => Date.parse(v))
      .optional(),
  ),
  workDir: optionalText,
  progress: z.enum(['auto', 'bar', 'lines', 'none'], {
    error: '--progress must be auto, bar, lines or none',
  }),
  pollIntervalMs: positiveInt('--poll-interval', 10, 600_000).default(3000),
  auth0: z.object({
    domain: optionalText,
    clientId: optionalText,
    clientSecret: optionalText,
    apiBaseUrl: optionalText.pipe(
      z.url({ protocol: /^https?$/, error: 'AUTH0_API_BASE_URL must be an http(s) URL' }).optional(),
    ),
    plan: optionalText.pipe(
      z
        .enum(AUTH0_PLANS, { error: `AUTH0_PLAN must be one of ${AUTH0_PLANS.join(', ')}` })
        .default(DEFAULT_AUTH0_PLAN),
    ),
  }),
  databaseUrl: optionalText,
  databaseAuthToken: optionalText,
});

export type CliOptions = z.output<typeof schema>;

/** Flags and environment → validated options, or a UsageError whose message names every problem. */
export function parseCli(argv: string[], env: Record<string, string | undefined>): CliOptions | 'help' {
  let values: ReturnType<typeof parseArgs>['values'];
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: 'string' },
        mfa: { type: 'boolean', default: false },
        prune: { type: 'boolean', default: false },
        complete: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        'connection-id': { type: 'string' },
        restart: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'batch-size': { type: 'string' },
        region: { type: 'string' },
        'as-of': { type: 'string' },
        'work-dir': { type: 'string' },
        progress: { type: 'string', default: 'auto' },
        'poll-interval': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun with --help for the options.`);
  }
  if (values.help) return 'help';
  const parsed = schema.safeParse({
    file: values.file,
    mfa: values.mfa,
    prune: values.prune,
    complete: values.complete,
    dryRun: values['dry-run'],
    connectionId: values['connection-id'],
    restart: values.restart,
    concurrency: values.concurrency,
    batchSize: values['batch-size'],
    region: values.region ?? env.DEFAULT_REGION ?? 'US',
    asOf: values['as-of'],
    workDir: values['work-dir'],
    progress: values.progress,
    pollIntervalMs: values['poll-interval'],
    auth0: {
      domain: env.AUTH0_DOMAIN,
      clientId: env.AUTH0_CLIENT_ID,
      clientSecret: env.AUTH0_CLIENT_SECRET,
      apiBaseUrl: env.AUTH0_API_BASE_URL,
      plan: env.AUTH0_PLAN,
    },
    databaseUrl: env.DATABASE_URL,
    databaseAuthToken: env.DATABASE_AUTH_TOKEN,
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('\n'));
  const options = parsed.data;
  const problems: string[] = [];
  if (options.file && options.connectionId)
    problems.push('--connection-id applies to export jobs; it cannot be used with --file');
  if (options.asOf !== undefined && !options.file)
    problems.push('--as-of applies to --file only (an export job has its own time)');
  if (options.complete && !options.file)
    problems.push('--complete applies to --file only (an export job knows whether it covers the tenant)');
  else if (options.complete && !options.prune) problems.push('--complete only matters with --prune');
  if (options.file && options.prune && options.asOf === undefined)
    problems.push(
      '--prune with --file needs --as-of <when the export was taken>: the file’s modification time is later, and pruning as of it would remove links written since',
    );
  if (!options.file || options.mfa) {
    const why = options.file ? '--mfa calls the Management API' : 'without --file, an export job is created';
    for (const [name, value] of [
      ['AUTH0_DOMAIN', options.auth0.domain],
      ['AUTH0_CLIENT_ID', options.auth0.clientId],
      ['AUTH0_CLIENT_SECRET', options.auth0.clientSecret],
    ] as const)
      if (!value) problems.push(`${name} is required (${why})`);
    const domain = options.auth0.domain;
    if (domain && !/^[a-z0-9.-]+$/i.test(domain))
      problems.push(
        'AUTH0_DOMAIN must be a host name such as your-tenant.us.auth0.com (no https://, no path)',
      );
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return options;
}
