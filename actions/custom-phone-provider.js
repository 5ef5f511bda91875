/**
 * callerpop — Custom Phone Provider (trigger `custom-phone-provider`: Branding > Phone Provider > Custom, the
 * Unified Phone Experience).
 * One tenant-level provider serves MFA, passwordless and phone-as-identifier ("Before you start" in auth0/docs-v2
 * main/docs/customize/phone-messages/unified-phone/configure-unified-phone.mdx), and Auth0 does not say which
 * flow sends which message_type. So this Action names the flow from documented fields (callerpopFlow) and hands
 * the notification to callerpop, which applies the one-number-per-user policy to MFA enrollments only, the
 * toll-fraud controls, delivers through Twilio (text, or a call that reads the code in the user's locale) and
 * indexes the number: never a code of another flow as an MFA phone.
 * Outcomes, as main/docs/actions/reference/custom-phone-provider/custom-phone-provider-api-object.mdx
 * ("api.notification") defines them: delivered, no call; a transient failure, retry() ("up to 5 times in the
 * next minutes"); anything final, a refused enrollment included, drop(). It never throws: the user gets no
 * feedback from this provider either way ("Auth0 does not provide feedback to the end user on whether a phone
 * message has been sent", configure-unified-phone.mdx), and Auth0's coding guidelines ask Actions never to
 * throw on purpose. docs/auth0.md says how a refusal can reach the user.
 * Secrets: CALLERPOP_URL, CALLERPOP_SECRET (whsec_…). No dependencies.
 */
'use strict';

/** Tries at callerpop within WORST_CASE_MS, each waiting at most CALLERPOP_ATTEMPT_TIMEOUT_MS. */
const CALLERPOP_ATTEMPTS = 2;
const CALLERPOP_ATTEMPT_TIMEOUT_MS = 4000;
/**
 * The longest a run of this Action takes once started: callerpop's deadline, which every attempt and pause
 * ends by. One execution of a trigger has 20 s for all its Actions (main/docs/customize/actions/limitations.mdx,
 * "Executions") and requests should time out in under 10 s (action-coding-guidelines.mdx, "Actions basics"):
 * with a cold-start allowance each callerpop Action stays under 8 s (actions/deadlines.test.ts).
 */
const WORST_CASE_MS = 5500;

// --- callerpop client: the same block in every callerpop Action (actions/scripts.test.ts keeps the copies
// equal). A copy, not an Actions Module: each script then stands alone, and whether the custom-phone-provider
// and send-phone-message triggers can use Modules is not documented. ---
// Signs each callback with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64
// HMAC-SHA256>) using the CALLERPOP_SECRET secret (`whsec_…`; several space-separated while rotating).
const crypto = require('node:crypto');

/** The pause before another attempt: it lets an in-flight first attempt finish (callerpop answers 409 till then). */
const CALLERPOP_RETRY_PAUSE_MS = 300;
/** Another attempt only with at least this much of the deadline left after the pause: less would only time out. */
const CALLERPOP_MIN_ATTEMPT_MS = 1000;

function callerpopSign(secrets, id, timestamp, body) {
  return String(secrets)
    .split(/\s+/)
    .filter(Boolean)
    .map((secret) => {
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      const mac = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
      return `v1,${mac}`;
    })
    .join(' ');
}

/**
 * POSTs one event to `${CALLERPOP_URL}/auth0/events` and returns callerpop's JSON answer.
 * Time: one budget. Every attempt, pause and answer ends `deadlineMs` after the call, each attempt waits at
 * most `attemptTimeoutMs` (connecting, headers and body), and a further attempt starts only with time left.
 * A network error, timeout, 409, 429 or 5xx is tried again under the same webhook-id (callerpop applies an id
 * once); the error thrown at the end has `retryable` set when trying later could help.
 * `key` names the Auth0 event itself (not this run): the webhook-id is derived from it, so when Auth0 runs
 * the Action again for the same event (api.notification.retry()) callerpop answers from its record instead of
 * sending a second code. Without a key each run gets a random id.
 */
async function callerpopPost(event, payload, { attempts, attemptTimeoutMs, deadlineMs, key }) {
  const deadlineAt = Date.now() + deadlineMs;
  const secrets = event.secrets || {};
  const base = String(secrets.CALLERPOP_URL || '').replace(/\/+$/, '');
  if (!base || !secrets.CALLERPOP_SECRET) {
    throw Object.assign(new Error('callerpop: set the CALLERPOP_URL and CALLERPOP_SECRET secrets'), {
      retryable: false,
    });
  }
  const body = JSON.stringify(payload);
  // Keyed with the secret: the key holds the one-time code, and callerpop logs and stores webhook-ids, so an
  // unkeyed hash could be reversed by trying every code.
  const id = key
    ? `msg_${crypto.createHmac('sha256', String(secrets.CALLERPOP_SECRET)).update(String(key)).digest('base64url')}`
    : `msg_${crypto.randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': callerpopSign(secrets.CALLERPOP_SECRET, id, timestamp, body),
  };
  let failure;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) {
      if (deadlineAt - Date.now() < CALLERPOP_RETRY_PAUSE_MS + CALLERPOP_MIN_ATTEMPT_MS) break;
      await new Promise((resolve) => setTimeout(resolve, CALLERPOP_RETRY_PAUSE_MS));
    }
    const timeoutMs = Math.max(1, Math.min(attemptTimeoutMs, deadlineAt - Date.now()));
    let res;
    let text;
    try {
      res = await fetch(`${base}/auth0/events`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const why = err && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err?.message;
      failure = Object.assign(new Error(`callerpop unreachable: ${why}`), { retryable: true });
      continue;
    }
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok && json) return json;
    const detail = json?.error?.message || res.statusText;
    const retryable = res.status === 409 || res.status === 429 || res.status >= 500;
    failure = Object.assign(new Error(`callerpop answered ${res.status}: ${detail}`), { retryable });
    if (!retryable) break;
  }
  throw failure;
}

/**
 * The user as callerpop indexes it, from the fields every trigger's event.user documents (plus
 * event.connection where the trigger has one). `blocked` and `last_login` are on no trigger's event.user, so
 * they are not sent: callerpop keeps what it knows of them.
 */
function callerpopUser(event) {
  const user = event.user || {};
  const connection = event.connection || {};
  const identities = Array.isArray(user.identities) ? user.identities : [];
  const first = identities[0] || {};
  return {
    user_id: user.user_id,
    email: user.email || null,
    name: user.name || null,
    connection: connection.name || first.connection || null,
    strategy: connection.strategy || first.provider || null,
    phone_number: user.phone_number || null,
    phone_verified: typeof user.phone_verified === 'boolean' ? user.phone_verified : null,
    identities: identities.map((i) => ({
      provider: String(i.provider),
      user_id: String(i.user_id),
      connection: i.connection || undefined,
    })),
  };
}
// --- end of callerpop client ---

const OTP_TYPES = ['otp_enroll', 'otp_verify'];
const PURPOSES = { otp_enroll: 'enrollment', otp_verify: 'authentication' };

/** Two ways of writing one number (E.164 recipient, profile phone_number) compare by their digits. */
function sameNumber(a, b) {
  const digits = (value) => String(value || '').replace(/\D/g, '');
  return digits(a) !== '' && digits(a) === digits(b);
}

/**
 * The sign-in flow a notification belongs to, from documented fields only (custom-phone-provider-event-object.mdx):
 * event.user (empty before a user exists), its user_id (`sms|…` for passwordless SMS users) and phone_number,
 * event.connection.strategy (optional; `sms` for passwordless, `auth0` for database connections) and
 * message_type. The pages do not map message types to flows (Auth0's passwordless sample handles otp_verify),
 * so the type decides only that a code is a code:
 *  - passwordless: an SMS connection or an `sms|` user, sent to the user's own number (or before the user exists);
 *  - phone_identifier: no user yet on a database connection (phone verified at sign-up, flexible identifiers);
 *  - mfa: a code for an existing user of another kind, sent to a number it does not sign in with;
 *  - unclassified: what these fields cannot settle, e.g. no user and no connection, or a database user's code
 *    to its own phone_number (a phone-as-identifier login or MFA to that number). Never indexed as MFA.
 */
function callerpopFlow(event) {
  const notification = event.notification || {};
  const user = event.user || {};
  const strategy = event.connection?.strategy;
  const userId = typeof user.user_id === 'string' ? user.user_id : '';
  const ownNumber = user.phone_number;
  const toOwnNumber = sameNumber(ownNumber, notification.recipient);
  if (strategy === 'sms' || userId.startsWith('sms|')) {
    return !ownNumber || toOwnNumber ? 'passwordless' : 'unclassified';
  }
  if (!userId) return strategy === 'auth0' ? 'phone_identifier' : 'unclassified';
  if (!OTP_TYPES.includes(notification.message_type)) return 'unclassified';
  // Only database users can sign in with their phone number; without event.connection, their ids say so.
  const database = strategy ? strategy === 'auth0' : userId.startsWith('auth0|');
  return database && toOwnNumber ? 'unclassified' : 'mfa';
}

exports.onExecuteCustomPhoneProvider = async (event, api) => {
  const notification = event.notification || {};
  const channel = notification.delivery_method === 'voice' ? 'voice' : 'sms';
  const user = event.user?.user_id ? callerpopUser(event) : null;
  // A code names its notification: after api.notification.retry() Auth0 runs this again for the same code,
  // and the same webhook-id makes callerpop answer from its record instead of sending it twice. Notices
  // without a code (blocked_account, …) carry nothing stable, so each run is its own message.
  const key = notification.code
    ? [
        'custom-phone-provider',
        user ? user.user_id : '',
        notification.recipient,
        notification.code,
        channel,
        notification.message_type,
      ].join('|')
    : undefined;
  let answer;
  try {
    answer = await callerpopPost(
      event,
      {
        type: 'phone.deliver',
        occurred_at: Date.now(),
        trigger: 'custom-phone-provider',
        user,
        message: {
          purpose: PURPOSES[notification.message_type] || notification.message_type,
          flow: callerpopFlow(event),
          channel,
          recipient: notification.recipient,
          code: notification.code || undefined,
          text: notification.as_text || undefined,
          voice_text: notification.as_voice || undefined,
          locale: notification.locale || undefined,
        },
      },
      {
        attempts: CALLERPOP_ATTEMPTS,
        attemptTimeoutMs: CALLERPOP_ATTEMPT_TIMEOUT_MS,
        deadlineMs: WORST_CASE_MS,
        key,
      },
    );
  } catch (err) {
    if (err.retryable) api.notification.retry(err.message);
    else api.notification.drop(err.message);
    return;
  }
  if (answer.delivered) return;
  if (answer.enrollment && answer.enrollment.allowed === false) {
    // Final. Auth0 only logs the reason; the user waits for a code that does not come (see the header).
    api.notification.drop(`enrollment refused: ${answer.enrollment.message || 'number not allowed'}`);
    return;
  }
  if (answer.retryable) api.notification.retry(answer.reason);
  else api.notification.drop(answer.reason);
};
