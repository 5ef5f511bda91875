import type { InteractionView } from '../../inbound/index.js';
import type { ClientState } from '../pages.js';
import { createFeed } from './feed.js';
import { wireLookup } from './lookup.js';
import { connectSocket } from './socket.js';

/**
 * The console page's script (`/agent/assets/console.js`): renders the interactions the server embedded,
 * keeps them live over the push socket, and runs the manual lookup. Bundled from TypeScript at build time.
 */

function main() {
  const stateEl = document.getElementById('callerpop-state');
  const feedEl = document.getElementById('feed');
  if (!stateEl || !feedEl) return;
  const state = JSON.parse(stateEl.textContent || '{}') as ClientState;
  const ctx = { mode: state.mode, dashboardBase: state.dashboardBase };
  const live = document.getElementById('live-status');
  const announcer = document.getElementById('announcer');
  const feed = createFeed(
    { ...ctx, popId: state.popId ?? null, startCursor: state.cursor ?? 0 },
    feedEl,
    announcer,
  );
  // For tests and the pop-latency bench.
  (window as unknown as { __callerpop: unknown }).__callerpop = {
    rendered: feed.rendered,
    versions: feed.versions,
  };

  // Oldest first, so the newest ends on top. A pop page opened before its webhook was recorded renders
  // nothing here and waits for the interaction on the socket.
  for (const v of [...state.interactions].reverse()) feed.apply(v, v.updatedAt, true);

  connectSocket({
    interaction: (view: InteractionView, version: number) => feed.apply(view, version),
    cursor: feed.cursor,
    status(text, tone) {
      if (!live) return;
      live.textContent = text;
      live.className = `live ${tone}`;
    },
    signedOut() {
      if (live) {
        live.textContent = 'Signed out';
        live.className = 'live bad';
      }
      if (announcer) announcer.textContent = 'Your session has ended. Reload the page to sign in again.';
    },
  });
  wireLookup(ctx);
}

main();
