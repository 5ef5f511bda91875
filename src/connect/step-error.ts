import { httpStatusOf } from '../auth0-api/index.js';

/**
 * A failed step, told the way an operator can act on it: which step, what Auth0 or Twilio said, and what to
 * do about it. Built from the API's own status and message only, never from a request body (one may carry a
 * secret).
 */
export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly detail: string,
    readonly hint: string,
  ) {
    super(`${step}: ${detail}`);
    this.name = 'StepError';
  }
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** Auth0's status and message of an SDK error (`statusCode`, `body: { message, error, errorCode }`). */
export function auth0Failure(step: string, error: unknown, scopes: readonly string[] = []): StepError {
  if (error instanceof StepError) return error;
  const status = httpStatusOf(error);
  if (status === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return new StepError(
      step,
      message.slice(0, 300),
      'check that AUTH0_DOMAIN (and AUTH0_API_BASE_URL) reach the tenant, then run again',
    );
  }
  const body = (error as { body?: unknown }).body as Record<string, unknown> | undefined;
  const message = text(body?.message) ?? text(body?.error_description) ?? text(body?.error) ?? 'no message';
  const code = text(body?.errorCode);
  const detail = `Auth0 answered HTTP ${status}: ${message.slice(0, 300)}${code ? ` (${code})` : ''}`;
  return new StepError(step, detail, auth0Hint(status, scopes));
}

function auth0Hint(status: number, scopes: readonly string[]): string {
  if (status === 401)
    return 'check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, and that the application is authorized for the Auth0 Management API';
  if (status === 403)
    return `grant the machine-to-machine application ${scopes.length > 0 ? scopes.join(', ') : 'the scope named above'} (Applications > APIs > Auth0 Management API > Machine To Machine Applications), then run again`;
  if (status === 409)
    return 'Auth0 refused a duplicate or a limit: see its message, remove the conflicting item, then run again';
  if (status === 429)
    return 'the tenant is rate limited: wait a minute and run again (nothing done so far is lost)';
  if (status >= 500)
    return 'Auth0 is failing: run again later (steps already done are kept and not repeated)';
  return 'fix what Auth0 names above (in the dashboard or the configuration), then run again';
}

/** Twilio's answer of an SDK error (RestException: `status`, `code`, `message`, `moreInfo`). */
export function twilioFailure(step: string, error: unknown): StepError {
  if (error instanceof StepError) return error;
  const e = error as { status?: unknown; code?: unknown; message?: unknown; moreInfo?: unknown };
  if (typeof e?.status !== 'number') {
    const message = error instanceof Error ? error.message : String(error);
    return new StepError(step, message.slice(0, 300), 'check the network path to Twilio, then run again');
  }
  const code = typeof e.code === 'number' ? e.code : undefined;
  const detail = `Twilio answered HTTP ${e.status}${code ? ` code ${code}` : ''}: ${text(e.message) ?? 'no message'}${
    text(e.moreInfo) ? ` (${e.moreInfo})` : ''
  }`;
  let hint = 'fix what Twilio names above, then run again';
  if (e.status === 401 || code === 20003)
    hint = 'check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the account that owns the number)';
  else if (e.status === 429) hint = 'Twilio is rate limiting: wait a minute and run again';
  else if (e.status >= 500)
    hint = 'Twilio is failing: run again later (steps already done are kept and not repeated)';
  return new StepError(step, detail, hint);
}

/** "connect auth0 failed at: <step>", Auth0's or Twilio's words, and what to do; on stderr. */
export function printFailure(err: { write(text: string): unknown }, command: string, error: StepError): void {
  err.write(`\n${command} failed at: ${error.step}\n  ${error.detail}\n  What to do: ${error.hint}\n`);
}

/** Runs a pass; a failure is printed (an unexpected one as itself) and answered false. */
export async function attempt(
  err: { write(text: string): unknown },
  command: string,
  run: () => Promise<void>,
): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    const failure =
      error instanceof StepError
        ? error
        : new StepError(
            '(unexpected)',
            error instanceof Error ? error.message : String(error),
            'run again; if it repeats, report it with this output',
          );
    printFailure(err, command, failure);
    return false;
  }
}
