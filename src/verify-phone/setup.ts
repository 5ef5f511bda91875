import type { AppDeps } from '../deps.js';
import { createTwilioVerify, type TwilioVerify } from '../twilio/index.js';
import { bareDomain, deriveRedirectSecrets } from './redirect-token.js';

/**
 * The verification flow behind /verify: open a session from the Action's token, send a code, check it,
 * index the verified number, and build the one return address (from configuration only).
 * This module holds what both halves share (configuration, the problems the page shows); the session and
 * its tokens live in phone-verification-session.ts, sending and checking codes in phone-verification-codes.ts.
 */

/** Why the page cannot go on; each has its own words on the problem page. */
export type ProblemKind =
  | 'not_configured'
  | 'missing'
  | 'invalid'
  | 'expired'
  | 'reused'
  | 'no_session'
  | 'csrf';

export class VerifyProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly status: 400 | 401 | 403 | 503,
  ) {
    super(kind);
    this.name = 'VerifyProblem';
  }
}

/** A problem the user can fix on the page: shown next to the field it is about. */
export interface FieldError {
  field: 'phone' | 'code' | 'form';
  message: string;
  status: 400 | 429 | 502;
}

export interface VerifySetup {
  auth0Domain: string;
  continueBase: string;
  /** One JWT key per shared secret: the first signs results, any verifies what the Action made. */
  redirectSecrets: string[];
  twilioVerify: TwilioVerify;
}

/** What the page needs from configuration; null when the operator has not set it up. */
export async function loadVerifySetup(deps: AppDeps): Promise<VerifySetup | null> {
  const { config } = deps;
  if (!config.AUTH0_DOMAIN || !config.TWILIO_VERIFY_SERVICE_SID) return null;
  const auth0Domain = bareDomain(config.AUTH0_DOMAIN);
  return {
    auth0Domain,
    continueBase: (config.AUTH0_CONTINUE_BASE_URL ?? `https://${auth0Domain}`).replace(/\/+$/, ''),
    redirectSecrets: await deriveRedirectSecrets(config.AUTH0_WEBHOOK_SECRET),
    twilioVerify: createTwilioVerify({
      baseUrl: config.TWILIO_VERIFY_BASE_URL,
      serviceSid: config.TWILIO_VERIFY_SERVICE_SID,
      accountSid: config.TWILIO_ACCOUNT_SID,
      authToken: config.TWILIO_AUTH_TOKEN,
      fetch: deps.fetch,
    }),
  };
}
