/**
 * callerpop — verified phone number at sign-up (Auth0 post-login Action).
 *
 * Sends a user once to callerpop's verification page when their profile has no verified phone number, or
 * when the number in user_metadata changed since it was verified. callerpop verifies it with Twilio Verify
 * and sends the user back to /continue with a signed result; only a valid result lets the login finish.
 *
 * Secrets: CALLERPOP_URL (e.g. https://callerpop.example.com) and CALLERPOP_SECRET (callerpop's
 * AUTH0_WEBHOOK_SECRET, the whsec_… value the other callerpop Actions use; several space-separated while
 * rotating: the first signs, any is accepted). No dependencies.
 *
 * What Auth0 does with the tokens is in "Redirect with Actions" (auth0/docs-v2
 * main/docs/customize/actions/redirect-with-actions.mdx): encodeToken() signs sub, iss, exp, ip and the
 * payload (no state: Auth0 adds `state` to the URL itself); validateToken() checks the signature, the expiry
 * and the token's `state` claim against this login, and exposes the custom claims as its result. Whether it
 * also returns sub/iss/iat is not documented, so this Action reads only callerpop's own claims.
 *
 * callerpop indexes the number only once this Action has seen the result inside the user's own login (the
 * page may have been completed by someone the link was passed to): onContinuePostLogin sends `phone.verified`
 * back. If that call fails, the result's id stays in app_metadata and the next login sends it again.
 */

/** Where sign-up puts the number (a custom sign-up field saved into user_metadata). */
const PHONE_FIELD = 'phone_number';
/** Written by this Action only: app_metadata cannot be edited by the user. */
const VERIFIED_FIELD = 'callerpop_verified_phone';
const VERIFIED_AT_FIELD = 'callerpop_phone_verified_at';
/** The result callerpop has not yet been told came back (its id): sent again at the next login. */
const CONFIRM_FIELD = 'callerpop_phone_confirmation';
/** Seconds the user has to reach callerpop after the redirect; callerpop spends the token on arrival. */
const REDIRECT_TOKEN_TTL = 300;
/** Must match src/services/redirect-token.ts: the JWT key is derived from the shared secret. */
const REDIRECT_KEY_LABEL = 'callerpop/verify-phone/redirect-token/v1';
/** Must match RESULT_CLAIMS in src/services/redirect-token.ts. */
const RESULT_USER_ID = 'callerpop_user_id';
const RESULT_PHONE = 'callerpop_phone';
const RESULT_VERIFIED_AT = 'callerpop_verified_at';
const RESULT_ID = 'callerpop_result_id';
const E164 = /^\+[1-9]\d{1,14}$/;
/** The confirmation to callerpop: the login waits for it, so one try and no more than WORST_CASE_MS. */
const CALLERPOP_ATTEMPTS = 1;
const CALLERPOP_ATTEMPT_TIMEOUT_MS = 3000;
/**
 * The longest a run of this Action takes once started: one request to callerpop (the confirmation, on
 * continue, or again at a later login when it failed), ended by this deadline; the rest is one HMAC-SHA256.
 * Stated beside the other callerpop Actions' budgets and checked with them by actions/deadlines.test.ts.
 */
const WORST_CASE_MS = 3000;

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

/**
 * Tells callerpop the result came back in this user's login (`phone.verified`), so it indexes the number.
 * True once callerpop answered (confirmed, or refused for good: a result it never made or forgot); false
 * when it could not be reached, so the next login tries again. Never throws: the login goes on either way.
 */
async function confirmToCallerpop(event, phone, resultId) {
  try {
    await callerpopPost(
      event,
      {
        type: 'phone.verified',
        occurred_at: Date.now(),
        user: callerpopUser(event),
        phone,
        result_id: resultId,
      },
      {
        attempts: CALLERPOP_ATTEMPTS,
        attemptTimeoutMs: CALLERPOP_ATTEMPT_TIMEOUT_MS,
        deadlineMs: WORST_CASE_MS,
        key: `phone.verified:${resultId}`,
      },
    );
    return true;
  } catch (err) {
    console.log(
      `callerpop: verified number not confirmed yet (${err.message}); the next login sends it again`,
    );
    return err.retryable === false;
  }
}

function settings(event) {
  const secrets = event.secrets || {};
  const base =
    typeof secrets.CALLERPOP_URL === 'string' ? secrets.CALLERPOP_URL.trim().replace(/\/+$/, '') : '';
  const shared = typeof secrets.CALLERPOP_SECRET === 'string' ? secrets.CALLERPOP_SECRET.split(/\s+/) : [];
  const keys = shared
    .filter(Boolean)
    // A separate key per secret for the JWTs: each secret also signs the Standard Webhooks calls to callerpop.
    .map((secret) => crypto.createHmac('sha256', secret).update(REDIRECT_KEY_LABEL).digest('base64url'));
  if (!/^https?:\/\/[^/]+$/i.test(base) || keys.length === 0) return null;
  return { base, keys };
}

/** The result callerpop sent back, checked with each key in turn (rotation); null when none accepts it. */
function validateResult(api, keys) {
  for (const secret of keys) {
    try {
      return api.redirect.validateToken({ secret, tokenParameterName: 'session_token' });
    } catch (_err) {
      // Not signed with this key, expired, or made for another login: try the next key, if any.
    }
  }
  return null;
}

/** The profile's number as typed at sign-up, without the punctuation people put between digits. */
function profileNumber(user) {
  const value = user.user_metadata ? user.user_metadata[PHONE_FIELD] : undefined;
  if (typeof value !== 'string') return undefined;
  const compact = value.replace(/[\s().-]/g, '');
  return compact === '' ? undefined : compact;
}

/**
 * The account as callerpop's page shows it ("a•••@example.com"), so that someone who opens a link made in
 * another person's login sees it is not their account. Masked here: the token travels in a URL.
 */
function accountLabel(user) {
  const email = typeof user.email === 'string' ? user.email.trim() : '';
  const at = email.lastIndexOf('@');
  if (at < 1 || at === email.length - 1) return undefined;
  return `${email[0]}•••${email.slice(at)}`.slice(0, 100);
}

function verifiedNumber(user) {
  const value = user.app_metadata ? user.app_metadata[VERIFIED_FIELD] : undefined;
  return typeof value === 'string' && E164.test(value) ? value : undefined;
}

exports.onExecutePostLogin = async (event, api) => {
  const user = event.user;
  const current = profileNumber(user);
  const verified = verifiedNumber(user);
  // A result seen in an earlier login whose confirmation did not reach callerpop: send it again.
  const pending = user.app_metadata ? user.app_metadata[CONFIRM_FIELD] : undefined;
  if (verified && typeof pending === 'string' && pending !== '' && settings(event)) {
    if (await confirmToCallerpop(event, verified, pending)) api.user.setAppMetadata(CONFIRM_FIELD, null);
  }
  // Verified before, and the profile still names that number (or names none): nothing to do.
  if (verified && (current === undefined || current === verified)) return;
  // Passwordless SMS users: Auth0 verified the number itself.
  if (user.phone_verified === true && typeof user.phone_number === 'string') return;
  // Refresh tokens, password grants, device flow…: no browser to redirect. The next interactive login asks.
  if (typeof api.redirect.canRedirect === 'function' && !api.redirect.canRedirect()) return;

  const config = settings(event);
  if (!config) {
    api.access.deny(
      'Phone verification is not configured: set the CALLERPOP_URL and CALLERPOP_SECRET secrets.',
    );
    return;
  }
  // A fresh nonce makes every token unique: Auth0's own claims (sub, iss, exp, ip) repeat when one user starts
  // two logins in the same second, and callerpop accepts each token once.
  const payload = { nonce: crypto.randomBytes(12).toString('base64url') };
  if (current) payload.phone = current.slice(0, 64);
  if (verified) payload.verified_phone = verified;
  const account = accountLabel(user);
  if (account) payload.account = account;
  const token = api.redirect.encodeToken({
    secret: config.keys[0],
    expiresInSeconds: REDIRECT_TOKEN_TTL,
    payload,
  });
  api.redirect.sendUserTo(`${config.base}/verify`, { query: { session_token: token } });
};

exports.onContinuePostLogin = async (event, api) => {
  const config = settings(event);
  if (!config) {
    api.access.deny(
      'Phone verification is not configured: set the CALLERPOP_URL and CALLERPOP_SECRET secrets.',
    );
    return;
  }
  // Checks the signature, the expiry and that the token was made for this login's state.
  const result = validateResult(api, config.keys);
  if (!result) {
    api.access.deny(
      'Phone verification failed: the result did not come from callerpop or has expired. Please sign in again.',
    );
    return;
  }
  // callerpop's own claim, not `sub`: whether validateToken() returns the standard claims is undocumented.
  if (result[RESULT_USER_ID] !== event.user.user_id) {
    api.access.deny('Phone verification failed: the result was made for another user. Please sign in again.');
    return;
  }
  const phone = result[RESULT_PHONE];
  if (typeof phone !== 'string' || !E164.test(phone)) {
    api.access.deny('Phone verification failed: no verified phone number came back. Please sign in again.');
    return;
  }
  const verifiedAt = result[RESULT_VERIFIED_AT];
  api.user.setAppMetadata(VERIFIED_FIELD, phone);
  api.user.setAppMetadata(
    VERIFIED_AT_FIELD,
    new Date(
      (typeof verifiedAt === 'number' && Number.isFinite(verifiedAt) ? verifiedAt : Date.now() / 1000) * 1000,
    ).toISOString(),
  );
  // The profile now names the verified number in E.164, so the next login compares equal and skips the page.
  api.user.setUserMetadata(PHONE_FIELD, phone);
  // Only now, the result back in this user's own login, may callerpop index the number.
  const resultId = result[RESULT_ID];
  if (typeof resultId === 'string' && resultId !== '') {
    const confirmed = await confirmToCallerpop(event, phone, resultId);
    api.user.setAppMetadata(CONFIRM_FIELD, confirmed ? null : resultId);
  }
};
