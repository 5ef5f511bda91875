import { CLIENT_SCRIPT_CARDS } from './client-script-cards.js';

/**
 * The console's only script, served from `/agent/assets/console.js` (no bundler, no framework).
 * It renders interaction cards from the JSON the server embeds and the socket pushes, keeps the socket
 * alive (ping/pong, reconnect with backoff, resume from the last version it holds), runs the manual
 * lookup against `/api/lookup`, and de-duplicates frames by id and version.
 *
 * Everything is built with DOM APIs and textContent: no HTML strings, so nothing a caller or an Auth0
 * profile contains can become markup. Kept in ES2017 syntax without template literals so it can live in
 * a TypeScript string as is.
 *
 * Card rendering (el, renderCard, renderMatches) is in client-script-cards.ts, spliced in below so the
 * served script stays one function scope: this part keeps the page state, applies versions, runs the
 * socket and the manual lookup.
 */
export const CLIENT_SCRIPT =
  `(function () {
  'use strict';
  var stateEl = document.getElementById('callerpop-state');
  if (!stateEl) return;
  var state = JSON.parse(stateEl.textContent || '{}');
  var SLACK_MS = 5000;
  var MAX_CARDS = 100;
  var versions = new Map();
  var cursor = state.cursor || 0;
  var feed = document.getElementById('feed');
  var live = document.getElementById('live-status');
  var announcer = document.getElementById('announcer');
  var popTarget = state.popId || null;
  var rendered = [];
  window.__callerpop = { rendered: rendered, versions: versions };
` +
  CLIENT_SCRIPT_CARDS +
  `
  function announce(v) {
    if (!announcer) return;
    var n = (v.matches || []).length;
    announcer.textContent = (v.channel === 'voice' ? 'Incoming call from ' : 'Text from ') + v.callerDisplay + ': ' +
      (v.e164 ? (n === 0 ? 'no matching account' : n + (n === 1 ? ' matching account' : ' matching accounts')) : 'number withheld');
  }

  function apply(v, version, initial) {
    if (!v || typeof v.id !== 'string') return;
    var known = versions.get(v.id);
    if (known !== undefined && version <= known) return;
    versions.set(v.id, version);
    if (version > cursor) cursor = version;
    if (state.mode === 'pop' && v.id !== popTarget && v.twilioSid !== popTarget) return;
    var existing = feed.querySelector('[data-interaction-id="' + CSS.escape(v.id) + '"]');
    var card = renderCard(v, state.mode === 'pop' ? 1 : 3);
    if (existing) { existing.replaceWith(card); }
    else {
      var empty = document.getElementById('feed-empty');
      if (empty) empty.remove();
      if (state.mode === 'pop') { feed.textContent = ''; feed.appendChild(card); }
      else {
        feed.insertBefore(card, feed.firstChild);
        while (feed.children.length > MAX_CARDS) feed.removeChild(feed.lastChild);
      }
      if (known === undefined && !initial) { card.classList.add('new'); announce(v); }
    }
    // For tests and the pop-latency bench: when each version reached the screen (page clock).
    rendered.push({ id: v.id, sid: v.twilioSid, version: version, t: performance.now() });
    if (rendered.length > 1000) rendered.splice(0, rendered.length - 1000);
  }

  // Oldest first, so the newest ends on top. A pop page opened before its webhook was recorded renders
  // nothing here and waits for the interaction on the socket.
  (state.interactions || []).slice().reverse().forEach(function (v) { apply(v, v.updatedAt, true); });

  // --- the socket ---
  var ws = null;
  var backoff = 500;
  var lastFrameAt = 0;
  var pingTimer = null;
  var reconnectTimer = null;
  var stopped = false;

  function setLive(text, tone) {
    if (!live) return;
    live.textContent = text;
    live.className = 'live ' + tone;
  }

  function send(frame) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame)); }

  function isObject(x) { return x !== null && typeof x === 'object' && !Array.isArray(x); }

  function onFrame(data) {
    var frame;
    try { frame = JSON.parse(data); } catch (e) { return; }
    if (!isObject(frame) || typeof frame.type !== 'string') return;
    lastFrameAt = Date.now();
    if (frame.type === 'hello') {
      backoff = 500;
      setLive('Live', 'good');
      send({ type: 'resume', since: Math.max(0, cursor - SLACK_MS) });
    } else if (frame.type === 'interaction' && typeof frame.id === 'string' && typeof frame.version === 'number' && isObject(frame.interaction)) {
      apply(frame.interaction, frame.version);
    } else if (frame.type === 'synced' && (typeof frame.cursor === 'string' || typeof frame.cursor === 'number')) {
      // The cursor is opaque ("<ms>:<id>"): sent back as is, it continues after the last row of the page.
      if (frame.more) send({ type: 'resume', since: frame.cursor });
    }
  }

  function signedOut() {
    stopped = true;
    setLive('Signed out', 'bad');
    if (announcer) announcer.textContent = 'Your session has ended. Reload the page to sign in again.';
  }

  function scheduleReconnect() {
    if (stopped) return;
    if (reconnectTimer) return;
    // Offline: the 'online' event reconnects; retrying now would only fail.
    if (navigator.onLine === false) { setLive('Offline: waiting for the network', 'bad'); return; }
    setLive('Reconnecting…', 'warn');
    reconnectTimer = setTimeout(function () { reconnectTimer = null; connect(); }, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }

  function connect() {
    if (stopped) return;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/agent/socket';
    var opened = false;
    try { ws = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    ws.onopen = function () { opened = true; };
    ws.onmessage = function (event) { if (typeof event.data === 'string') onFrame(event.data); };
    ws.onclose = function (event) {
      ws = null;
      if (event.code === 4401) { signedOut(); return; }
      if (opened) { scheduleReconnect(); return; }
      // Refused before opening: a network problem, or the session is gone (the upgrade answered 401).
      fetch('/agent/api/me', { credentials: 'same-origin' }).then(function (res) {
        if (res.status === 401) signedOut(); else scheduleReconnect();
      }, scheduleReconnect);
    };
    ws.onerror = function () { if (ws) ws.close(); };
  }

  pingTimer = setInterval(function () {
    if (!ws || ws.readyState !== 1) return;
    if (Date.now() - lastFrameAt > 60000) { ws.close(); return; }
    send({ type: 'ping', t: Date.now() });
  }, 25000);
  window.addEventListener('online', function () { backoff = 500; if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; } connect(); });
  window.addEventListener('offline', function () { setLive('Offline: waiting for the network', 'bad'); if (ws) ws.close(); });
  connect();

  // --- manual lookup ---
  var form = document.getElementById('lookup-form');
  var results = document.getElementById('lookup-results');
  if (form && results) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var phone = form.elements.namedItem('phone').value;
      var region = form.elements.namedItem('region') ? form.elements.namedItem('region').value : '';
      results.textContent = '';
      results.setAttribute('aria-busy', 'true');
      var query = '?phone=' + encodeURIComponent(phone) + (region ? '&region=' + encodeURIComponent(region) : '');
      fetch('/api/lookup' + query, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (res) { return res.json().then(function (body) { return { ok: res.ok, body: body }; }); })
        .then(function (r) {
          results.removeAttribute('aria-busy');
          if (!r.ok) {
            var msg = r.body && r.body.error ? r.body.error.message : 'Lookup failed';
            results.appendChild(el('p', { className: 'notice bad', role: 'alert', text: msg }));
            return;
          }
          var b = r.body;
          if (!b.e164) {
            results.appendChild(el('p', { className: 'notice warn', role: 'status', text: b.message || 'That is not a phone number we can look up.' }));
            return;
          }
          results.appendChild(el('h3', { className: 'lookup-number', text: b.display || b.e164 }));
          if (b.policyWarning) results.appendChild(policyNotice());
          renderMatches(b.matches, b.sharedLine).forEach(function (n) { results.appendChild(n); });
        })
        .catch(function () {
          results.removeAttribute('aria-busy');
          results.appendChild(el('p', { className: 'notice bad', role: 'alert', text: 'Lookup failed: check your connection.' }));
        });
    });
  }
})();
`;
