import { parseArgs } from 'node:util';

export const HELP = `Usage: npm run connect -- auth0 [options]
       npm run connect -- twilio --number +E164 [options]

Connects callerpop to an Auth0 tenant or a Twilio number: creates or updates what callerpop needs there,
and changes nothing that is already right. See docs/connect.md.

auth0   installs callerpop's Actions from actions/ (deployed and bound after the tenant's own), the log
        stream, the agents' sign-in application and its roles Action; reports the scopes the
        machine-to-machine application lacks and the SMS obfuscation flag.
  --phone classic|upe|none   which phone script delivers Auth0's codes through callerpop (default none:
                             the phone setup is left as it is). classic: send-phone-message (MFA with a
                             Custom provider). upe: custom-phone-provider, and the tenant's phone provider
                             is switched to it (the command says what it replaces)
  --verify-phone             also install the sign-up phone verification Action (verify-phone)
  --disable-sms-obfuscation  turn the tenant flag disable_management_api_sms_obfuscation on (the backfill
                             can then read MFA phone numbers); without it the flag is only reported

twilio  points the number's voice, SMS and status-callback URLs at PUBLIC_BASE_URL (or its Messaging
        Service's inbound URL when that one wins), and sets a voice fallback that still routes callers.
  --number +E164             the Twilio number to connect (required)
  --fallback-url URL         the voice fallback (default: Twilio's echo twimlet returning ROUTE_TO's TwiML;
                             give a TwiML Bin's URL to host it in your own account)
  --verify-phone             create the Twilio Verify service the sign-up verification page uses
  --verify-name NAME         that service's name, shown in the text ("Your NAME verification code is…";
                             default callerpop; at most 30 letters, digits, spaces, - or _)

Both:
  --dry-run                  print what would change and what stays; change nothing
  --undo                     remove what connect added and restore what it recorded replacing
  -h, --help                 show this help

Environment (a .env file is read if present): PUBLIC_BASE_URL (https), AUTH0_DOMAIN, AUTH0_CLIENT_ID,
AUTH0_CLIENT_SECRET, AUTH0_WEBHOOK_SECRET, AUTH0_LOG_STREAM_TOKEN, AGENT_ROLES_CLAIM, AUTH0_AGENT_CLIENT_ID;
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID, ROUTE_TO.
What connect replaced is recorded in data/connect-state.json (no secret is written there).

Exit status: 0 done (or nothing to do), 1 a step failed (the step, the API's message and what to do are
printed), 2 bad usage or configuration.`;

export class UsageError extends Error {}

export type PhoneScript = 'classic' | 'upe' | 'none';

interface Common {
  dryRun: boolean;
  undo: boolean;
}
export interface Auth0Options extends Common {
  command: 'auth0';
  phone: PhoneScript;
  verifyPhone: boolean;
  disableSmsObfuscation: boolean;
}
export interface TwilioOptions extends Common {
  command: 'twilio';
  number: string;
  fallbackUrl: string | undefined;
  verifyPhone: boolean;
  verifyName: string;
}
export type ConnectOptions = Auth0Options | TwilioOptions;

const E164 = /^\+[1-9]\d{1,14}$/;
/**
 * Verify Service `friendly_name` ([OAI] twilio_verify_v2.json): "up to 30 characters long and can include
 * letters, numbers, spaces, dashes, underscores … cannot contain more than 4 (consecutive or
 * non-consecutive) digits".
 */
const VERIFY_NAME = /^[A-Za-z0-9 _-]{1,30}$/;

/** Arguments after `npm run connect --` → options, 'help', or a UsageError naming every problem. */
export function parseConnectArgs(argv: string[]): ConnectOptions | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        phone: { type: 'string' },
        'verify-phone': { type: 'boolean', default: false },
        'disable-sms-obfuscation': { type: 'boolean', default: false },
        number: { type: 'string' },
        'fallback-url': { type: 'string' },
        'verify-name': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        undo: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nRun with --help for the options.`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const command = positionals[0];
  const problems: string[] = [];
  if (positionals.length !== 1 || (command !== 'auth0' && command !== 'twilio'))
    throw new UsageError('Name one thing to connect: auth0 or twilio.\nRun with --help for the options.');
  const flag = (name: string) => values[name] as string | boolean | undefined;
  const only = (names: string[], where: string) => {
    for (const name of names)
      if (flag(name) !== undefined && flag(name) !== false)
        problems.push(`--${name} applies to ${where} only`);
  };
  // --dry-run with --undo prints what the undo would remove.
  const common = { dryRun: values['dry-run'] === true, undo: values.undo === true };
  if (command === 'auth0') {
    only(['number', 'fallback-url', 'verify-name'], 'twilio');
    const phone = (values.phone as string | undefined) ?? 'none';
    if (phone !== 'classic' && phone !== 'upe' && phone !== 'none')
      problems.push('--phone must be classic, upe or none');
    if (problems.length > 0) throw new UsageError(problems.join('\n'));
    return {
      command,
      ...common,
      phone: phone as PhoneScript,
      verifyPhone: values['verify-phone'] === true,
      disableSmsObfuscation: values['disable-sms-obfuscation'] === true,
    };
  }
  only(['phone', 'disable-sms-obfuscation'], 'auth0');
  const number = ((values.number as string | undefined) ?? '').replace(/[\s().-]/g, '');
  if (!E164.test(number)) problems.push('--number must be the Twilio number in E.164, e.g. +14155550100');
  const fallbackUrl = values['fallback-url'] as string | undefined;
  if (fallbackUrl !== undefined && !/^https:\/\/[^\s]+$/.test(fallbackUrl))
    problems.push('--fallback-url must be an https:// URL (a TwiML Bin, a Twilio Function…)');
  const verifyName = ((values['verify-name'] as string | undefined) ?? 'callerpop').trim();
  if (!VERIFY_NAME.test(verifyName) || (verifyName.match(/\d/g) ?? []).length > 4)
    problems.push('--verify-name must be 1–30 letters, digits (4 at most), spaces, - or _');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    command,
    ...common,
    number,
    fallbackUrl,
    verifyPhone: values['verify-phone'] === true,
    verifyName,
  };
}
