import type { Child } from 'hono/jsx';

/**
 * The phone verification page: three steps (number, code, done) and a problem page. Plain forms, no script
 * (the CSP forbids it), large touch targets, every error tied to its field for screen readers.
 */

export type VerifyStep = 'number' | 'code' | 'done';

export interface PageError {
  field: 'phone' | 'code' | 'form';
  message: string;
}

export interface VerifyPageProps {
  step: VerifyStep;
  csrf: string;
  /** What the phone field shows (the typed value after an error, or the number from the profile). */
  phoneValue?: string;
  /** The number in international format, for the code and done steps. */
  phoneDisplay?: string;
  channel?: 'sms' | 'call';
  /** Seconds before a new code may be asked for. */
  cooldown?: number;
  region: string;
  error?: PageError;
  /** The account being verified, as the Action masked it (a•••@example.com). */
  account?: string;
}

export const VERIFY_PAGE_STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;background:#f3f4f7;color:#16181d;font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:440px;margin:0 auto;padding:32px 20px 48px}
.card{background:#fff;border-radius:16px;box-shadow:0 1px 3px rgba(16,24,40,.08),0 8px 24px rgba(16,24,40,.06);padding:28px 24px}
.brand{display:flex;align-items:center;gap:8px;margin:0 0 20px;font-size:14px;font-weight:600;color:#5b6170;letter-spacing:.02em}
.brand svg{flex:none}
h1{font-size:24px;line-height:1.25;margin:0 0 8px}
p{margin:0 0 16px}
.lead{color:#4a4f5c}
.field{margin:0 0 20px}
label,legend{display:block;font-weight:600;margin:0 0 4px}
.hint{font-size:15px;color:#5b6170;margin:0 0 8px}
input[type=tel],input[type=text]{display:block;width:100%;height:52px;padding:0 14px;font:inherit;font-size:20px;color:inherit;background:#fff;border:2px solid #8a8f9c;border-radius:10px}
input.code{letter-spacing:.3em;font-variant-numeric:tabular-nums}
input:focus{outline:3px solid #f5b400;outline-offset:1px;border-color:#16181d}
input[aria-invalid=true]{border-color:#c4281c}
.error{color:#c4281c;font-size:15px;font-weight:600;margin:8px 0 0}
.alert{border-left:5px solid #c4281c;background:#fdf1f0;padding:12px 14px;border-radius:6px;margin:0 0 20px;font-size:15px}
fieldset{border:0;padding:0;margin:0 0 24px}
legend{padding:0}
.choice{display:flex;align-items:center;gap:12px;font-weight:400;min-height:48px;padding:0 14px;border:2px solid #d5d8df;border-radius:10px;margin:8px 0 0;cursor:pointer}
.choice input{width:22px;height:22px;margin:0;accent-color:#1a56db}
.choice:has(input:checked){border-color:#1a56db;background:#f2f6ff}
button{font:inherit;cursor:pointer}
.primary{display:block;width:100%;min-height:52px;border:0;border-radius:10px;background:#1a56db;color:#fff;font-weight:600;font-size:18px}
.primary:hover{background:#1648b8}
.primary:focus-visible,.link:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
.more{margin-top:24px;padding-top:20px;border-top:1px solid #e6e8ec}
.more p{font-size:15px;color:#5b6170;margin:0 0 8px}
.more form{display:inline}
.link{display:block;background:none;border:0;padding:10px 0;color:#1a56db;font-weight:600;text-decoration:underline;text-underline-offset:3px;text-align:left}
.link[disabled]{color:#8a8f9c;cursor:not-allowed;text-decoration:none}
.done{text-align:center}
.tick{display:inline-flex;align-items:center;justify-content:center;width:64px;height:64px;border-radius:50%;background:#e7f6ec;margin:4px 0 16px}
.number{font-weight:700;white-space:nowrap}
.foot{font-size:13px;color:#6b7080;text-align:center;margin-top:20px}
`;

function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <style dangerouslySetInnerHTML={{ __html: VERIFY_PAGE_STYLE }} />
      </head>
      <body>
        <main>
          <div class="card">
            <p class="brand">
              <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true">
                <path
                  fill="#1a56db"
                  d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"
                />
              </svg>
              Phone verification
            </p>
            {props.children}
          </div>
          <p class="foot">Your number is only used to recognise you when you contact support.</p>
        </main>
      </body>
    </html>
  );
}

function Csrf(props: { token: string }) {
  return <input type="hidden" name="csrf" value={props.token} />;
}

function FormAlert(props: { error?: PageError }) {
  if (props.error?.field !== 'form') return null;
  return (
    <div class="alert" role="alert" id="form-error">
      {props.error.message}
    </div>
  );
}

/**
 * Whose account this is. A link made in one person's login can be opened by another; the number verified
 * here goes to this account, so the person must see whose it is before typing theirs.
 */
function AccountNotice(props: { account?: string }) {
  if (!props.account) return null;
  return (
    <p class="hint account" id="account">
      For the account <strong>{props.account}</strong>. Not your account? Close this page.
    </p>
  );
}

function NumberStep(props: VerifyPageProps) {
  const error = props.error?.field === 'phone' ? props.error : undefined;
  const describedBy = error ? 'phone-hint phone-error' : 'phone-hint';
  const channel = props.channel ?? 'sms';
  return (
    <>
      <h1>Verify your phone number</h1>
      <p class="lead">We will send you a code to confirm that this number is yours.</p>
      <AccountNotice account={props.account} />
      <FormAlert error={props.error} />
      <form method="post" action="/verify/number" novalidate>
        <Csrf token={props.csrf} />
        <div class="field">
          <label for="phone">Mobile phone number</label>
          <p class="hint" id="phone-hint">
            {props.region === 'US'
              ? 'Outside the US? Start with + and your country code.'
              : `Not a ${props.region} number? Start with + and the country code.`}
          </p>
          <input
            id="phone"
            name="phone"
            type="tel"
            autocomplete="tel"
            inputmode="tel"
            required
            maxlength={40}
            value={props.phoneValue ?? ''}
            aria-describedby={describedBy}
            aria-invalid={error ? 'true' : undefined}
            autofocus={error ? true : undefined}
          />
          {error && (
            <p class="error" id="phone-error">
              {error.message}
            </p>
          )}
        </div>
        <fieldset>
          <legend>Send the code by</legend>
          <label class="choice">
            <input type="radio" name="channel" value="sms" checked={channel === 'sms'} />
            Text message
          </label>
          <label class="choice">
            <input type="radio" name="channel" value="call" checked={channel === 'call'} />
            Phone call
          </label>
        </fieldset>
        <button type="submit" class="primary">
          Send code
        </button>
      </form>
    </>
  );
}

function CodeStep(props: VerifyPageProps) {
  const error = props.error?.field === 'code' ? props.error : undefined;
  const cooldown = props.cooldown ?? 0;
  const how = props.channel === 'call' ? 'We are calling' : 'We sent a text message to';
  return (
    <>
      <h1>Enter your code</h1>
      <p class="lead">
        {how} <span class="number">{props.phoneDisplay}</span>
        {props.channel === 'call' ? ' to read you a code.' : ' with a code.'}
      </p>
      <AccountNotice account={props.account} />
      <FormAlert error={props.error} />
      <form method="post" action="/verify/code" novalidate>
        <Csrf token={props.csrf} />
        <div class="field">
          <label for="code">Verification code</label>
          <input
            id="code"
            name="code"
            class="code"
            type="text"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]*"
            maxlength={10}
            required
            autofocus
            aria-describedby={error ? 'code-error' : undefined}
            aria-invalid={error ? 'true' : undefined}
          />
          {error && (
            <p class="error" id="code-error">
              {error.message}
            </p>
          )}
        </div>
        <button type="submit" class="primary">
          Verify
        </button>
      </form>
      <div class="more">
        <p id="resend-note">
          {cooldown > 0
            ? `Didn’t get it? You can ask for a new code in ${cooldown} seconds.`
            : 'Didn’t get it? Ask for a new code.'}
        </p>
        <form method="post" action="/verify/resend">
          <Csrf token={props.csrf} />
          <input type="hidden" name="channel" value="sms" />
          <button type="submit" class="link" aria-describedby="resend-note">
            Text me a new code
          </button>
        </form>
        <form method="post" action="/verify/resend">
          <Csrf token={props.csrf} />
          <input type="hidden" name="channel" value="call" />
          <button type="submit" class="link" aria-describedby="resend-note">
            Call me instead
          </button>
        </form>
        <form method="post" action="/verify/change-number">
          <Csrf token={props.csrf} />
          <button type="submit" class="link">
            Use a different number
          </button>
        </form>
      </div>
    </>
  );
}

function DoneStep(props: VerifyPageProps) {
  return (
    <div class="done">
      <span class="tick">
        <svg width="32" height="32" viewBox="0 0 24 24" aria-hidden="true">
          <path fill="none" stroke="#1a7f3c" stroke-width="2.5" d="M5 12.5l4.5 4.5L19 7.5" />
        </svg>
      </span>
      <h1>Phone number verified</h1>
      <p class="lead">
        <span class="number">{props.phoneDisplay}</span> is now verified on your account.
      </p>
      <form method="post" action="/verify/continue">
        <Csrf token={props.csrf} />
        <button type="submit" class="primary">
          Continue signing in
        </button>
      </form>
    </div>
  );
}

const TITLES: Record<VerifyStep, string> = {
  number: 'Verify your phone number',
  code: 'Enter your code',
  done: 'Phone number verified',
};

export function VerifyPage(props: VerifyPageProps) {
  const title = `${props.error ? 'Error: ' : ''}${TITLES[props.step]}`;
  return (
    <Layout title={title}>
      {props.step === 'number' && <NumberStep {...props} />}
      {props.step === 'code' && <CodeStep {...props} />}
      {props.step === 'done' && <DoneStep {...props} />}
    </Layout>
  );
}

export function ProblemPage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p class="lead">{props.message}</p>
    </Layout>
  );
}

/** The whole document, doctype included, for `c.html()`. */
export async function renderVerifyPage(props: VerifyPageProps): Promise<string> {
  return `<!doctype html>${await (<VerifyPage {...props} />).toString()}`;
}

export async function renderProblemPage(props: { title: string; message: string }): Promise<string> {
  return `<!doctype html>${await (<ProblemPage {...props} />).toString()}`;
}
