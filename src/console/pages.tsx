import type { InteractionView } from '../inbound/index.js';
import { Layout, StateScript, TopBar } from './layout.js';

export interface PageAgent {
  name: string;
  csrf: string;
}

export interface ClientState {
  mode: 'console' | 'pop';
  popId?: string;
  /** Server time the embedded interactions are complete up to. */
  cursor: number;
  interactions: InteractionView[];
  /** Auth0 dashboard users URL, ending in `/users/`, or null when no tenant is configured. */
  dashboardBase: string | null;
}

/** `/agent`: the live feed of calls and texts, and the manual lookup. */
export function ConsolePage(props: { agent: PageAgent; state: ClientState; defaultRegion: string }) {
  return (
    <Layout title="callerpop · agent console" script="console">
      <TopBar agentName={props.agent.name} csrf={props.agent.csrf} />
      <main id="main">
        <div class="layout">
          <aside aria-labelledby="lookup-title">
            <search class="panel">
              <h2 id="lookup-title">Look up a number</h2>
              <form id="lookup-form" action="/api/lookup" method="get">
                <label for="lookup-phone">Phone number</label>
                <p class="hint" id="lookup-hint">
                  Any format: +44 20 7946 0958, (415) 555-0100, 0044…
                </p>
                <div class="field-row">
                  <input
                    id="lookup-phone"
                    name="phone"
                    type="tel"
                    autocomplete="off"
                    required
                    maxlength={64}
                    aria-describedby="lookup-hint"
                  />
                  <label class="sr-only" for="lookup-region">
                    Country for numbers without a country code
                  </label>
                  <input
                    id="lookup-region"
                    name="region"
                    type="text"
                    value={props.defaultRegion}
                    maxlength={2}
                    size={3}
                    pattern="[A-Za-z]{2}"
                    title="Two-letter country code for national numbers"
                  />
                  <button class="btn" type="submit">
                    Look up
                  </button>
                </div>
              </form>
              <div id="lookup-results" tabindex={-1} aria-live="polite" />
            </search>
          </aside>
          <section aria-labelledby="feed-title">
            <h2 id="feed-title">Calls and texts</h2>
            <div id="feed" aria-live="off">
              {props.state.interactions.length === 0 ? (
                <p id="feed-empty" class="empty">
                  No calls yet. New calls and texts appear here as they ring, with every account that owns the
                  number.
                </p>
              ) : null}
            </div>
            <noscript>
              <p class="notice warn">The live console needs JavaScript.</p>
            </noscript>
          </section>
        </div>
        <p id="announcer" class="sr-only" aria-live="assertive" />
      </main>
      <StateScript state={props.state} />
    </Layout>
  );
}

/** `/agent/pop/:id`: one interaction, live, compact enough for a 400 px iframe. */
export function PopPage(props: { agent: PageAgent; state: ClientState; found: boolean }) {
  return (
    <Layout title="callerpop · screen pop" bodyClass="pop" script="console">
      <TopBar agentName={props.agent.name} csrf={props.agent.csrf} />
      <main id="main">
        <div id="feed" aria-live="polite">
          {props.found ? null : (
            <p id="feed-empty" class="empty" role="status">
              Waiting for this call to reach callerpop…
            </p>
          )}
        </div>
        <p id="announcer" class="sr-only" aria-live="assertive" />
      </main>
      <StateScript state={props.state} />
    </Layout>
  );
}

/** Sign-in: the token form (embedded default) or the OpenID Connect button. */
export function LoginPage(props: {
  mode: 'token' | 'oidc';
  returnTo: string;
  error?: string;
  notice?: string;
  framed: boolean;
}) {
  const startUrl = `/agent/login?start=1&returnTo=${encodeURIComponent(props.returnTo)}`;
  return (
    <Layout title="callerpop · sign in" script={props.framed ? 'frame' : undefined}>
      <main id="main" class="center" data-return-to={props.returnTo}>
        <h1>Sign in to callerpop</h1>
        {props.error ? (
          <p class="notice bad" role="alert">
            {props.error}
          </p>
        ) : null}
        {props.notice ? (
          <p class="notice good" role="status">
            {props.notice}
          </p>
        ) : null}
        {props.mode === 'oidc' ? (
          <>
            <p>Agents sign in with the company account.</p>
            {props.framed ? (
              <>
                <p class="hint">
                  Sign-in opens in a new window, which closes itself and signs this panel in.
                </p>
                <p>
                  <a
                    id="popup-sign-in"
                    class="btn"
                    href={`${startUrl}&handoff=1`}
                    target="_blank"
                    rel="noopener"
                  >
                    Sign in (new window)
                  </a>
                </p>
              </>
            ) : (
              <p>
                <a class="btn" href={startUrl}>
                  Sign in
                </a>
              </p>
            )}
          </>
        ) : (
          <form method="post" action="/agent/login">
            <input type="hidden" name="returnTo" value={props.returnTo} />
            <label for="token">Access token</label>
            <p class="hint" id="token-hint">
              The sign-in link printed when callerpop started contains it (ADMIN_TOKEN).
            </p>
            <p class="field-row">
              <input
                id="token"
                name="token"
                type="password"
                autocomplete="current-password"
                required
                aria-describedby="token-hint"
              />
              <button class="btn" type="submit">
                Sign in
              </button>
            </p>
          </form>
        )}
      </main>
    </Layout>
  );
}

export function MessagePage(props: {
  title: string;
  message: string;
  action?: { href: string; label: string };
}) {
  return (
    <Layout title={`callerpop · ${props.title}`}>
      <main id="main" class="center">
        <h1>{props.title}</h1>
        <p>{props.message}</p>
        {props.action ? (
          <p>
            <a class="btn" href={props.action.href}>
              {props.action.label}
            </a>
          </p>
        ) : null}
      </main>
    </Layout>
  );
}

/** Shown in the sign-in window after a sign-in started from a framed page: hands the session over. */
export function HandoffPage(props: { token: string; returnTo: string }) {
  return (
    <Layout title="callerpop · signed in" script="frame">
      <main id="main" class="center">
        <h1>Signed in</h1>
        <p id="handoff" data-token={props.token}>
          You can close this window. If the call panel still asks you to sign in, reload it.
        </p>
        <p>
          <a href={props.returnTo}>Open the console here instead</a>
        </p>
      </main>
    </Layout>
  );
}
