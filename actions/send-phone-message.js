/**
 * callerpop — Send Phone Message (trigger `send-phone-message`, flow "Send Phone Message"; MFA with SMS/voice
 * and "Custom" as the phone message provider).
 * Hands each MFA code to callerpop, which applies the one-number-per-user policy on enrollment, the toll-fraud
 * controls, delivers through Twilio (SMS, or a call that reads the code) and indexes the number.
 * A refused enrollment throws callerpop's ENROLLMENT_BLOCK_MESSAGE, which Auth0 shows to the user; any other
 * failure throws so Auth0 reports the code as not sent.
 * Secrets: CALLERPOP_URL, CALLERPOP_SECRET (whsec_…). No dependencies. At most 2 × 9 s (the flow has 20 s).
 */
'use strict';

// --- callerpop client: the same block in every callerpop Action (Actions cannot share files) ---
// Signs each callback with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64
// HMAC-SHA256>) using the CALLERPOP_SECRET secret (`whsec_…`; several space-separated while rotating).
const crypto = require('node:crypto');

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
 * POSTs one event to `${CALLERPOP_URL}/auth0/events` and returns callerpop's JSON answer. A network error,
 * timeout, 409, 429 or 5xx is tried again under the same webhook-id (callerpop applies an id once); the
 * error thrown at the end has `retryable` set when trying later could help.
 * `key` names the Auth0 event itself (not this run): the webhook-id is derived from it, so when Auth0 runs
 * the Action again for the same event (api.notification.retry(), a flow retry) callerpop answers from its
 * record instead of sending a second code. Without a key each run gets a random id.
 */
async function callerpopPost(event, payload, { timeoutMs = 9000, attempts = 2, key } = {}) {
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
    // A short pause lets an in-flight first attempt finish (callerpop answers 409 until it has).
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 300));
    let res;
    try {
      res = await fetch(`${base}/auth0/events`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      failure = Object.assign(new Error(`callerpop unreachable: ${err?.message}`), { retryable: true });
      continue;
    }
    let json;
    try {
      json = JSON.parse(await res.text());
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

/** The user as callerpop indexes it, from Auth0's event.user and event.connection. */
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
    blocked: typeof user.blocked === 'boolean' ? user.blocked : null,
    last_login: user.last_login || null,
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

exports.onExecuteSendPhoneMessage = async (event) => {
  const options = event.message_options || {};
  const language = String(event.request?.language || '').split(/[,;]/)[0] || undefined;
  const channel = options.message_type === 'voice' ? 'voice' : 'sms';
  // The same code to the same number by the same channel is one message, however often Auth0 runs this.
  const key = options.code
    ? [
        'send-phone-message',
        event.user?.user_id,
        options.recipient,
        options.code,
        channel,
        options.action,
      ].join('|')
    : undefined;
  const payload = {
    type: 'phone.deliver',
    occurred_at: Date.now(),
    trigger: 'send-phone-message',
    user: callerpopUser(event),
    message: {
      purpose: options.action === 'enrollment' ? 'enrollment' : 'authentication',
      channel,
      recipient: options.recipient,
      code: options.code || undefined,
      text: options.text || undefined,
      locale: language,
    },
  };
  const answer = await callerpopPost(event, payload, { key });
  if (answer.delivered) return;
  if (answer.enrollment && answer.enrollment.allowed === false) {
    throw new Error(answer.enrollment.message || 'This phone number cannot be used.');
  }
  throw new Error(`callerpop could not deliver the code (${answer.reason})`);
};
