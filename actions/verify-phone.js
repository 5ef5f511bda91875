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
 */
const crypto = require('node:crypto');

/** Where sign-up puts the number (a custom sign-up field saved into user_metadata). */
const PHONE_FIELD = 'phone_number';
/** Written by this Action only: app_metadata cannot be edited by the user. */
const VERIFIED_FIELD = 'callerpop_verified_phone';
const VERIFIED_AT_FIELD = 'callerpop_phone_verified_at';
/** Seconds the user has to reach callerpop after the redirect; callerpop spends the token on arrival. */
const REDIRECT_TOKEN_TTL = 300;
/** Must match src/services/redirect-token.ts: the JWT key is derived from the shared secret. */
const REDIRECT_KEY_LABEL = 'callerpop/verify-phone/redirect-token/v1';
/** Must match RESULT_CLAIMS in src/services/redirect-token.ts. */
const RESULT_USER_ID = 'callerpop_user_id';
const RESULT_PHONE = 'callerpop_phone';
const RESULT_VERIFIED_AT = 'callerpop_verified_at';
const E164 = /^\+[1-9]\d{1,14}$/;
/**
 * The longest a run of this Action takes once started. It makes no request of its own (the user's browser
 * reaches callerpop after the redirect), so a run is local work: one HMAC-SHA256 to sign or to check a token.
 * Stated beside the other callerpop Actions' budgets and checked with them by actions/deadlines.test.ts.
 */
// biome-ignore lint/correctness/noUnusedVariables: this Action's stated budget, read by actions/deadlines.test.ts
const WORST_CASE_MS = 100;

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
};
