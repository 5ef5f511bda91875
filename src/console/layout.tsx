import type { Child } from 'hono/jsx';

/** The HTML shell every agent page shares: one stylesheet, one script, nothing from elsewhere. */
export function Layout(props: {
  title: string;
  bodyClass?: string;
  children: Child;
  /** The console script, or the small sign-in handoff script for framed pages. */
  script?: 'console' | 'frame';
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/agent/assets/console.css" />
      </head>
      <body class={props.bodyClass}>
        {props.children}
        {props.script ? <script src={`/agent/assets/${props.script}.js`} defer /> : null}
      </body>
    </html>
  );
}

/** Embeds data for the client script; `<` is escaped so no value can close the script element. */
export function StateScript(props: { state: unknown }) {
  const json = JSON.stringify(props.state)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, '');
  return <script id="callerpop-state" type="application/json" dangerouslySetInnerHTML={{ __html: json }} />;
}

export function TopBar(props: { agentName: string; csrf: string; framed?: boolean }) {
  return (
    <header class="topbar">
      <a class="skip" href="#main">
        Skip to main content
      </a>
      <h1>
        <a href="/agent">callerpop</a>
      </h1>
      <span id="live-status" class="live warn" role="status">
        Connecting…
      </span>
      <span class="who">
        <span class="who-label">Signed in as </span>
        <strong>{props.agentName}</strong>
      </span>
      <form method="post" action="/agent/logout">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <button type="submit">Sign out</button>
      </form>
    </header>
  );
}
