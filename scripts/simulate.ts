/**
 * `npm run simulate -- call +14155550100` | `-- sms +14155550100 "text"` | `-- status CALLSID completed`
 *
 * Plays Twilio against a running callerpop: posts the webhook Twilio would send, signed with the same
 * secrets the server uses (the same config loader, so .env and ./data/dev-secrets.json agree) and the
 * twilio package's own signing function, then prints the TwiML and the matches the server recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';
import type { Config } from '../src/config.js';
import type { InteractionView } from '../src/inbound/interaction-view.js';
import { loadNodeConfig } from '../src/node/env.js';

const USAGE = `Usage:
  npm run simulate -- call <from> [--to <number>] [--stir <StirVerstat>]
  npm run simulate -- sms <from> "<text>" [--to <number>]
  npm run simulate -- status <CallSid> <queued|ringing|in-progress|completed|busy|failed|no-answer|canceled>
Options:
  --url <base>   where callerpop listens (default http://localhost:$PORT); the signature is always made
                 over PUBLIC_BASE_URL, as Twilio does
  --retry        send the same webhook twice, as a Twilio retry would (same SID, same idempotency token)
Examples:
  npm run simulate -- call +14155550100
  npm run simulate -- sms +14155550123 "Where is my order?"`;

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

function callParams(config: Config, from: string, to: string, stir: string | undefined) {
  return {
    AccountSid: config.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: sid('CA'),
    CallStatus: 'ringing',
    Called: to,
    Caller: from,
    Direction: 'inbound',
    From: from,
    To: to,
    ...(stir ? { StirVerstat: stir } : {}),
  };
}

function smsParams(config: Config, from: string, to: string, body: string) {
  const messageSid = sid('SM');
  return {
    AccountSid: config.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    Body: body,
    From: from,
    MessageSid: messageSid,
    NumMedia: '0',
    NumSegments: '1',
    SmsMessageSid: messageSid,
    SmsSid: messageSid,
    SmsStatus: 'received',
    To: to,
  };
}

class NotRunning extends Error {}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET') throw new NotRunning(url);
    throw err;
  }
}

async function postWebhook(config: Config, base: string, path: string, params: Record<string, string>) {
  const signature = getExpectedTwilioSignature(
    config.TWILIO_AUTH_TOKEN,
    config.PUBLIC_BASE_URL + path,
    params,
  );
  return send(base + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'i-twilio-idempotency-token': randomUUID(),
      'user-agent': 'TwilioProxy/1.1 (callerpop simulate)',
    },
    body: new URLSearchParams(params).toString(),
  });
}

function printMatches(view: InteractionView) {
  console.log(
    `\nCaller ${view.callerDisplay}${view.e164 ? '' : ` (${view.fromReason})`} · status ${view.status}`,
  );
  if (view.stirVerstat) console.log(`STIR/SHAKEN: ${view.stirVerstat}`);
  if (view.matches.length === 0) console.log('No account owns this number.');
  else {
    console.log(`${view.matches.length} account(s)${view.sharedLine ? ' — shared line' : ''}:`);
    for (const m of view.matches) {
      const who = [m.name, m.email].filter(Boolean).join(' <') + (m.email && m.name ? '>' : '');
      const flags = [m.blocked ? 'BLOCKED' : '', m.verified ? 'verified' : 'unverified'].filter(Boolean);
      console.log(`  ${m.rank}. ${who || m.userId}  ${m.userId}  ${m.evidence} [${flags.join(', ')}]`);
    }
  }
  if (view.flags.lookupFailed) console.log('(the index did not answer in time: routed without a match)');
  console.log(`Screen pop: ${view.popUrl}`);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      to: { type: 'string', default: '+14155550199' },
      stir: { type: 'string', default: 'TN-Validation-Passed-A' },
      retry: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, first, second] = positionals;
  if (values.help || !command || !first) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const { config } = loadNodeConfig();
  const base = (values.url ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  const to = values.to ?? '+14155550199';

  let path: string;
  let params: Record<string, string>;
  if (command === 'call') {
    path = '/twilio/voice';
    params = callParams(config, first, to, values.stir);
  } else if (command === 'sms') {
    path = '/twilio/sms';
    params = smsParams(config, first, to, second ?? 'Hello from the simulator');
  } else if (command === 'status' && second) {
    path = '/twilio/voice/status';
    params = {
      AccountSid: config.TWILIO_ACCOUNT_SID,
      CallSid: first,
      CallStatus: second,
      ApiVersion: '2010-04-01',
    };
  } else {
    console.error(USAGE);
    process.exit(2);
  }

  console.log(`POST ${base}${path} (signed for ${config.PUBLIC_BASE_URL}${path})`);
  const times = values.retry ? 2 : 1;
  let twiml = '';
  for (let i = 0; i < times; i++) {
    const res = await postWebhook(config, base, path, params);
    twiml = await res.text();
    console.log(
      `\n${res.status} ${res.headers.get('content-type') ?? ''}${i > 0 ? ' (retry)' : ''}\n${twiml || '(no body)'}`,
    );
    if (!res.ok) process.exit(1);
  }

  const interactionSid = params.CallSid ?? params.MessageSid;
  if (!interactionSid) return;
  // A text is answered before it is recorded (a few ms behind): give it a moment to appear.
  let res: Response | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    res = await send(`${base}/api/interactions/${encodeURIComponent(interactionSid)}`, {
      headers: { authorization: `Bearer ${config.ADMIN_TOKEN}` },
    });
    if (res.status !== 404 || command === 'status') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!res) return;
  if (!res.ok) {
    console.log(`\nGET /api/interactions/${interactionSid} → ${res.status} ${await res.text()}`);
    return;
  }
  printMatches((await res.json()) as InteractionView);
}

main().catch((err: unknown) => {
  if (err instanceof NotRunning) {
    console.error(
      `callerpop is not running at ${new URL(err.message).origin}.\n` +
        'Start it in another terminal with `npm start`, or pass --url to reach it elsewhere.',
    );
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
