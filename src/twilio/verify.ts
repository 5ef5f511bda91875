import type { VerifyChannel } from '../db/schema.js';

/**
 * Twilio Verify v2 over plain fetch (runs on Workers: no SDK root import, no `node:*`).
 * Verifications starts or re-sends a code; VerificationCheck checks one, by the verification's SID;
 * Verifications/{Sid} with `Status=canceled` ends one (twilio.com/docs/verify/api/verification, "Update a
 * Verification status"). The code never passes through callerpop except on its way to VerificationCheck, and
 * is never logged.
 */

export interface TwilioVerifyOptions {
  baseUrl: string;
  serviceSid: string;
  accountSid: string;
  authToken: string;
  fetch: typeof fetch;
  /** Per request; Twilio answers in well under a second when healthy. */
  timeoutMs?: number;
}

/** Twilio error codes the page reacts to. */
export const VERIFY_ERRORS = {
  invalidParameter: 60200,
  maxCheckAttempts: 60202,
  maxSendAttempts: 60203,
  landlineSms: 60205,
  notFound: 20404,
} as const;

export class TwilioVerifyError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'TwilioVerifyError';
  }
}

export interface VerificationResult {
  sid: string;
  status: string;
  channel: string;
}

export interface CheckResult {
  /** `approved` when the code was right; `pending` when it was wrong and attempts remain. */
  status: string;
  valid: boolean;
}

export interface TwilioVerify {
  startVerification(input: {
    to: string;
    channel: VerifyChannel;
    locale?: string;
  }): Promise<VerificationResult>;
  /**
   * Checks a code against one verification, named by its SID (VerificationCheck's `VerificationSid`: "Either
   * this parameter or the `to` phone number/email must be specified"). By SID, a check can only ever count
   * against the verification its caller started, never another pending one for the same number.
   */
  checkCode(input: { verificationSid: string; code: string }): Promise<CheckResult>;
  /** Ends a pending verification (Status=canceled). One that is already over (20404) needs no ending. */
  cancelVerification(verificationSid: string): Promise<void>;
}

export function createTwilioVerify(options: TwilioVerifyOptions): TwilioVerify {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/v2/Services/${encodeURIComponent(options.serviceSid)}`;
  const authorization = `Basic ${btoa(`${options.accountSid}:${options.authToken}`)}`;

  async function post(path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await options.fetch(`${base}/${path}`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new TwilioVerifyError(0, null, `Twilio Verify unreachable: ${(err as Error).name}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (!res.ok) {
      const code = typeof record.code === 'number' ? record.code : null;
      // Twilio's message may quote the parameter it disliked (the number): keep it out of errors and logs.
      throw new TwilioVerifyError(
        res.status,
        code,
        `Twilio Verify answered ${res.status}${code ? ` (${code})` : ''}`,
      );
    }
    return record;
  }

  return {
    async startVerification({ to, channel, locale }) {
      const form: Record<string, string> = { To: to, Channel: channel };
      if (locale) form.Locale = locale;
      const body = await post('Verifications', form);
      return {
        sid: String(body.sid ?? ''),
        status: String(body.status ?? ''),
        channel: String(body.channel ?? ''),
      };
    },
    async checkCode({ verificationSid, code }) {
      const body = await post('VerificationCheck', { VerificationSid: verificationSid, Code: code });
      return { status: String(body.status ?? ''), valid: body.valid === true };
    },
    async cancelVerification(verificationSid) {
      try {
        await post(`Verifications/${encodeURIComponent(verificationSid)}`, { Status: 'canceled' });
      } catch (err) {
        // Approved or expired verifications are "soft deleted" and answer 20404 (twilio.com/docs/errors/20404).
        if (err instanceof TwilioVerifyError && err.code === VERIFY_ERRORS.notFound) return;
        throw err;
      }
    },
  };
}
