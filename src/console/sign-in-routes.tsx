import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { audit, auditRefusal } from '../audit/index.js';
import { agentAuthMode } from '../config.js';
import { claimEvent } from '../db/processed-events.js';
import type { AppDeps, AppEnv } from '../deps.js';
import { constantTimeEqual } from '../shared/constant-time.js';
import { ApiError } from '../shared/errors.js';
import { agentCsrf } from './guard.js';
import { finishAuthorization, type OidcSettings, oidcSettings, startAuthorization } from './oidc.js';
import { HandoffPage, LoginPage, MessagePage } from './pages.js';
import {
  csrfMatches,
  endSession,
  isFramedNavigation,
  readSession,
  revokeSession,
  safeReturnTo,
  saveTransaction,
  signHandoff,
  startSession,
  takeTransaction,
  verifyHandoff,
} from './session.js';

const ANONYMOUS = { id: 'anonymous', name: null };

/** The sign-in forms carry a token, a return path and a CSRF field: a few hundred bytes. */
export const AUTH_FORM_MAX_BYTES = 8 * 1024;

/** These forms are open to anyone: refuse big bodies before parseBody reads them into memory. */
const formLimit = bodyLimit({
  maxSize: AUTH_FORM_MAX_BYTES,
  onError: () => {
    throw new ApiError(413, 'payload_too_large', `Body larger than ${AUTH_FORM_MAX_BYTES} bytes`);
  },
});

/**
 * `/agent/login`, `/agent/callback`, `/agent/logout`. Token mode: the ADMIN_TOKEN link or form.
 * OIDC mode: authorization code + PKCE against the tenant; the token is refused.
 */
export function agentAuthRoutes(deps: AppDeps) {
  const { config } = deps;
  const mode = agentAuthMode(config);
  let oidcCache: OidcSettings | undefined;
  const oidc = () => {
    oidcCache ??= oidcSettings(config);
    return oidcCache;
  };
  const app = new Hono<AppEnv>();
  app.use(agentCsrf(config));

  const tokenSession = {
    sub: 'token:admin',
    name: 'Administrator',
    email: null,
    method: 'token',
    admin: true,
  } as const;

  app.get('/login', async (c) => {
    const returnTo = safeReturnTo(c.req.query('returnTo'));
    const framed = isFramedNavigation(c);
    if (mode === 'token') {
      const token = c.req.query('token');
      if (token === undefined) {
        const notice = c.req.query('signedOut') ? 'You are signed out.' : undefined;
        return c.html(<LoginPage mode="token" returnTo={returnTo} framed={framed} notice={notice} />);
      }
      if (!constantTimeEqual(token, config.ADMIN_TOKEN)) {
        await auditRefusal(deps, c, ANONYMOUS, { method: 'token', reason: 'wrong_token' });
        return c.html(
          <LoginPage
            mode="token"
            returnTo={returnTo}
            framed={framed}
            error="That sign-in link is not valid."
          />,
          401,
        );
      }
      await startSession(c, deps, tokenSession, deps.now(), { partitioned: framed });
      await audit(deps, c, { id: tokenSession.sub, name: tokenSession.name }, 'sign_in', null, {
        method: 'token',
      });
      // A 303 to a clean URL keeps the token out of the address bar and the history.
      return c.redirect(returnTo, 303);
    }
    if (!c.req.query('start') && (framed || c.req.query('signedOut'))) {
      const notice = c.req.query('signedOut') ? 'You are signed out.' : undefined;
      return c.html(<LoginPage mode="oidc" returnTo={returnTo} framed={framed} notice={notice} />);
    }
    const start = await startAuthorization(oidc(), deps.fetch);
    await saveTransaction(
      c,
      config,
      {
        state: start.state,
        nonce: start.nonce,
        verifier: start.verifier,
        returnTo,
        handoff: c.req.query('handoff') === '1',
      },
      deps.now(),
    );
    return c.redirect(start.url, 302);
  });

  app.post('/login', formLimit, async (c) => {
    const form = await c.req.parseBody();
    const returnTo = safeReturnTo(typeof form.returnTo === 'string' ? form.returnTo : undefined);
    if (mode !== 'token') return c.redirect(`/agent/login?returnTo=${encodeURIComponent(returnTo)}`, 303);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!constantTimeEqual(token, config.ADMIN_TOKEN)) {
      await auditRefusal(deps, c, ANONYMOUS, { method: 'token', reason: 'wrong_token' });
      return c.html(
        <LoginPage mode="token" returnTo={returnTo} framed={false} error="That token is not valid." />,
        401,
      );
    }
    await startSession(c, deps, tokenSession, deps.now(), { partitioned: isFramedNavigation(c) });
    await audit(deps, c, { id: tokenSession.sub, name: tokenSession.name }, 'sign_in', null, {
      method: 'token',
    });
    return c.redirect(returnTo, 303);
  });

  app.get('/callback', async (c) => {
    if (mode !== 'oidc') return c.redirect('/agent/login', 303);
    const tx = await takeTransaction(c, config);
    if (!tx) {
      return c.html(
        <MessagePage
          title="Sign-in expired"
          message="The sign-in took too long or was started in another browser. Please try again."
          action={{ href: '/agent/login?start=1', label: 'Sign in again' }}
        />,
        400,
      );
    }
    const result = await finishAuthorization(oidc(), deps.fetch, new URL(c.req.url), tx);
    if (!result.ok) {
      await auditRefusal(
        deps,
        c,
        { id: result.sub ?? 'anonymous', name: null },
        {
          method: 'oidc',
          reason: result.reason,
        },
      );
      deps.logger.warn('agent sign-in refused', { reason: result.reason, detail: result.message });
      const message =
        result.reason === 'missing_role'
          ? 'Your account is not allowed to use the agent console. Ask an administrator for the agent role.'
          : 'Sign-in did not complete. Please try again.';
      return c.html(<MessagePage title="Not signed in" message={message} />, 403);
    }
    const session = await startSession(c, deps, result.session, deps.now());
    await audit(deps, c, { id: session.sub, name: session.name }, 'sign_in', null, { method: 'oidc' });
    if (tx.handoff) {
      const token = await signHandoff(config, result.session, deps.now());
      return c.html(<HandoffPage token={token} returnTo={tx.returnTo} />);
    }
    return c.redirect(tx.returnTo, 303);
  });

  app.post('/login/handoff', formLimit, async (c) => {
    const form = await c.req.parseBody();
    const returnTo = safeReturnTo(typeof form.returnTo === 'string' ? form.returnTo : undefined);
    const handoff = typeof form.token === 'string' ? await verifyHandoff(config, form.token) : null;
    // Single use: a token seen once (replayed, or leaked from the window) opens nothing.
    if (!handoff || !(await claimEvent(deps.db, 'agent-handoff', handoff.jti, deps.now()))) {
      await auditRefusal(deps, c, ANONYMOUS, { via: 'handoff', reason: 'invalid_handoff' });
      return c.html(
        <MessagePage title="Not signed in" message="That sign-in has expired. Please sign in again." />,
        400,
      );
    }
    const session = await startSession(c, deps, handoff.session, deps.now(), {
      partitioned: isFramedNavigation(c),
    });
    await audit(deps, c, { id: session.sub, name: session.name }, 'sign_in', null, {
      method: session.method,
      via: 'handoff',
    });
    return c.redirect(returnTo, 303);
  });

  app.post('/logout', formLimit, async (c) => {
    const session = await readSession(c, deps);
    const form = await c.req.parseBody();
    if (session) {
      if (!csrfMatches(session, typeof form._csrf === 'string' ? form._csrf : undefined)) {
        return c.html(
          <MessagePage
            title="Not signed out"
            message="The form had expired. Reload the page and try again."
          />,
          403,
        );
      }
      await audit(deps, c, { id: session.sub, name: session.name }, 'sign_out', null);
      // The server forgets the session: a copy of the cookie opens nothing, and its consoles stop at once.
      if (session.sid !== undefined) await revokeSession(deps, session.sid, 'sign-out');
    }
    endSession(c, config);
    return c.redirect('/agent/login?signedOut=1', 303);
  });

  return app;
}
