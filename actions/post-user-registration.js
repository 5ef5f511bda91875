/**
 * callerpop — Post User Registration (trigger `post-user-registration`, flow "Post User Registration").
 * Tells callerpop about every new user, with its phone number if it has one (a passwordless SMS user's
 * number is its login; any other user's is a profile phone), so a call from that number pops the account.
 * The trigger runs for Database and Passwordless connections only and is non-blocking (auth0/docs-v2
 * main/docs/customize/actions/explore-triggers/post-user-registration.mdx); its event.user has no identities and
 * its event has no client (post-user-registration-event-object.mdx).
 * Secrets: CALLERPOP_URL (https://callerpop.example.com), CALLERPOP_SECRET (whsec_…, callerpop's
 * AUTH0_WEBHOOK_SECRET). No dependencies. Never fails the signup: a callerpop outage is logged and skipped
 * (the next login refreshes the account anyway).
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

exports.onExecutePostUserRegistration = async (event) => {
  try {
    await callerpopPost(
      event,
      { type: 'user.registered', occurred_at: Date.now(), user: callerpopUser(event) },
      {
        attempts: CALLERPOP_ATTEMPTS,
        attemptTimeoutMs: CALLERPOP_ATTEMPT_TIMEOUT_MS,
        deadlineMs: WORST_CASE_MS,
        // A user is registered once: its id and creation time name the event across runs (an id alone can
        // come back: a deleted user signs up again with the same user_id).
        key: event.user?.created_at
          ? ['post-user-registration', event.user.user_id, event.user.created_at].join('|')
          : undefined,
      },
    );
  } catch (err) {
    console.log(`callerpop: registration of ${event.user?.user_id} not indexed: ${err.message}`);
  }
};
