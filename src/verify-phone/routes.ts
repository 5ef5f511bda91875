import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import type { AppDeps, AppEnv } from '../deps.js';
import { handleError } from '../shared/errors.js';
import { formatPhoneForHumans } from '../shared/phone/format.js';
import { checkCode, cooldownRemaining, LIMIT_WINDOW_MS, sendCode } from './codes.js';
import { renderProblemPage, renderVerifyPage, VERIFY_PAGE_STYLE } from './page.js';
import { purgeVerificationData, type VerifySession } from './queries.js';
import {
  changeNumber,
  continueUrl,
  csrfMatches,
  loadSession,
  openSession,
  SESSION_TTL_MS,
} from './session.js';
import {
  type FieldError,
  loadVerifySetup,
  type ProblemKind,
  VerifyProblem,
  type VerifySetup,
} from './setup.js';

/**
 * GET /verify and its form posts: the page a post-login Action redirects to. It opens a session from the
 * Action's signed token, verifies the number with Twilio Verify, and sends the user back only to the
 * configured Auth0 `/continue`. Nothing here reads the Host header or a return address from the request.
 */

const PROBLEMS: Record<ProblemKind, { title: string; message: string }> = {
  not_configured: {
    title: 'Phone verification is not available',
    message: 'This service has not been set up yet. Please try again later.',
  },
  missing: {
    title: 'This link is incomplete',
    message: 'Go back to the app and sign in again.',
  },
  invalid: {
    title: 'This link is not valid',
    message: 'It may have been changed on the way. Go back to the app and sign in again.',
  },
  expired: {
    title: 'This link has expired',
    message: 'Go back to the app and sign in again to get a new one.',
  },
  reused: {
    title: 'This link has already been used',
    message: 'Each link works once. Go back to the app and sign in again.',
  },
  no_session: {
    title: 'This page has expired',
    message: 'Verification has to be finished within 15 minutes. Go back to the app and sign in again.',
  },
  csrf: {
    title: 'This form has expired',
    message: 'Reload the page and try again.',
  },
};

const MAX_STATE_LENGTH = 2048;
const MAX_FORM_BYTES = 8 * 1024;
const PURGE_EVERY_MS = 60 * 60_000;

export function verifyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const secure = deps.config.PUBLIC_BASE_URL.startsWith('https:');
  // __Host- pins the cookie to this exact origin, path / and HTTPS; plain HTTP (local runs, tests) cannot use it.
  const cookieName = secure ? '__Host-callerpop_verify' : 'callerpop_verify';
  const accountCookie = `${cookieName}_account`;
  const ownOrigin = new URL(deps.config.PUBLIC_BASE_URL).origin;

  let setupPromise: Promise<{ setup: VerifySetup | null; styleHash: string }> | undefined;
  const loadSetup = () => {
    setupPromise ??= (async () => ({
      setup: await loadVerifySetup(deps),
      styleHash: await sha256Base64(VERIFY_PAGE_STYLE),
    }))();
    return setupPromise;
  };
  const requireSetup = async () => {
    const { setup } = await loadSetup();
    if (!setup) throw new VerifyProblem('not_configured', 503);
    return setup;
  };

  app.onError(async (err, c) => {
    if (err instanceof VerifyProblem) return c.html(await renderProblemPage(PROBLEMS[err.kind]), err.status);
    return handleError(err, c);
  });

  app.use(async function securityHeaders(c, next) {
    const { setup, styleHash } = await loadSetup();
    await next();
    // form-action also governs where a form's redirect may lead: only here and Auth0's /continue.
    const continueOrigin = setup ? new URL(setup.continueBase).origin : '';
    c.header(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'sha256-${styleHash}'; img-src 'self' data:; form-action 'self' ${continueOrigin}; frame-ancestors 'none'; base-uri 'none'`.replace(
        / {2,}/g,
        ' ',
      ),
    );
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
  });
  app.use(
    bodyLimit({
      maxSize: MAX_FORM_BYTES,
      onError: (c) => c.text('Request too large', 413),
    }),
  );
  // The Origin of every form post must be callerpop's configured public origin (or the browser says same-origin).
  app.use(csrf({ origin: ownOrigin }));

  // Spent sessions, tokens and attempts are deleted here, at most hourly per process (or isolate), so the
  // tables stay small without a job of their own.
  let lastPurgeAt = 0;
  const purgeNowAndThen = async () => {
    const now = deps.now();
    if (now - lastPurgeAt < PURGE_EVERY_MS) return;
    lastPurgeAt = now;
    try {
      await purgeVerificationData(deps.db, now, LIMIT_WINDOW_MS);
    } catch (err) {
      deps.logger.warn('verify: purge failed', { error: (err as Error).message });
    }
  };

  const session = async (c: Context<AppEnv>): Promise<VerifySession> => {
    const found = await loadSession(deps, getCookie(c, cookieName));
    if (!found) throw new VerifyProblem('no_session', 400);
    return found;
  };

  /** A form post: the session from the cookie, and the form's CSRF token must be that session's. */
  const formPost = async (c: Context<AppEnv>) => {
    const s = await session(c);
    const form = await c.req.parseBody();
    if (!csrfMatches(s, form.csrf)) throw new VerifyProblem('csrf', 403);
    return { s, form };
  };

  const render = async (
    c: Context<AppEnv>,
    s: VerifySession,
    extra: { error?: FieldError; phoneValue?: string } = {},
  ) => {
    const step = s.status === 'verified' ? 'done' : s.status;
    const account = await getSignedCookie(c, deps.config.SESSION_SECRET, accountCookie);
    const html = await renderVerifyPage({
      step,
      account: typeof account === 'string' && account !== '' ? account : undefined,
      csrf: s.csrfToken,
      phoneValue: extra.phoneValue ?? (s.e164 ? formatPhoneForHumans(s.e164) : ''),
      phoneDisplay: s.e164 ? formatPhoneForHumans(s.e164) : undefined,
      channel: s.channel ?? 'sms',
      cooldown: cooldownRemaining(deps, s),
      region: deps.config.DEFAULT_REGION,
      error: extra.error,
    });
    return c.html(html, extra.error?.status ?? 200);
  };

  app.get('/', async (c) => {
    const setup = await requireSetup();
    const token = c.req.query('session_token');
    const state = c.req.query('state');
    if (token !== undefined || state !== undefined) {
      if (!token || !state || state.length > MAX_STATE_LENGTH) throw new VerifyProblem('missing', 400);
      const { cookie, account } = await openSession(deps, setup, { token, state });
      await purgeNowAndThen();
      const options = {
        httpOnly: true,
        secure,
        sameSite: 'Lax',
        path: '/',
        maxAge: SESSION_TTL_MS / 1000,
      } as const;
      setCookie(c, cookieName, cookie, options);
      // Which account this is, for display only; signed, and replaced whenever a new link opens a session.
      if (account) await setSignedCookie(c, accountCookie, account, deps.config.SESSION_SECRET, options);
      else deleteCookie(c, accountCookie, options);
      // Off the URL at once: the token is spent, and must not sit in history or be shared by copy-paste.
      return c.redirect('/verify', 303);
    }
    return render(c, await session(c));
  });

  app.post('/number', async (c) => {
    const setup = await requireSetup();
    const { s, form } = await formPost(c);
    if (s.status === 'verified') return c.redirect('/verify', 303);
    const phone = typeof form.phone === 'string' ? form.phone : '';
    const error = await sendCode(deps, setup, s, { phone, channel: parseChannel(form.channel) });
    if (error)
      return render(
        c,
        { ...s, status: 'number', channel: parseChannel(form.channel) },
        { error, phoneValue: phone },
      );
    return c.redirect('/verify', 303);
  });

  app.post('/resend', async (c) => {
    const setup = await requireSetup();
    const { s, form } = await formPost(c);
    if (s.status !== 'code') return c.redirect('/verify', 303);
    const error = await sendCode(deps, setup, s, { channel: parseChannel(form.channel) });
    if (error) return render(c, s, { error: { ...error, field: 'form' } });
    return c.redirect('/verify', 303);
  });

  app.post('/code', async (c) => {
    const setup = await requireSetup();
    const { s, form } = await formPost(c);
    if (s.status !== 'code') return c.redirect('/verify', 303);
    const outcome = await checkCode(deps, setup, s, form.code);
    if (!outcome.ok) return render(c, s, { error: outcome.error });
    return c.redirect(outcome.continueUrl, 303);
  });

  app.post('/change-number', async (c) => {
    await requireSetup();
    const { s } = await formPost(c);
    if (s.status === 'code') await changeNumber(deps, s);
    return c.redirect('/verify', 303);
  });

  /** The done page's button, for a user who came back to the page: a fresh result token, same state. */
  app.post('/continue', async (c) => {
    const setup = await requireSetup();
    const { s } = await formPost(c);
    if (s.status !== 'verified') return c.redirect('/verify', 303);
    return c.redirect(await continueUrl(deps, setup, s), 303);
  });

  return app;
}

function parseChannel(value: unknown): 'sms' | 'call' {
  return value === 'call' ? 'call' : 'sms';
}

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}
