/**
 * The console's only script, served from `/agent/assets/console.js` (no bundler, no framework).
 * It renders interaction cards from the JSON the server embeds and the socket pushes, keeps the socket
 * alive (ping/pong, reconnect with backoff, resume from the last version it holds), runs the manual
 * lookup against `/api/lookup`, and de-duplicates frames by id and version.
 *
 * Everything is built with DOM APIs and textContent: no HTML strings, so nothing a caller or an Auth0
 * profile contains can become markup. Kept in ES2017 syntax without template literals so it can live in
 * a TypeScript string as is.
 */
export const CLIENT_SCRIPT = String.raw`(function () {
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

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) continue;
      if (k === 'text') node.textContent = String(attrs[k]);
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SOURCE_WORDS = { mfa_sms: 'MFA by SMS', mfa_voice: 'MFA by voice', passwordless: 'Passwordless SMS', profile: 'Profile phone' };
  var STATUS_WORDS = { ringing: 'Ringing', queued: 'Queued', 'in-progress': 'In progress', completed: 'Completed', busy: 'Busy',
    'no-answer': 'No answer', failed: 'Failed', canceled: 'Canceled', received: 'Received', verifying: 'Verifying caller' };

  function stirWords(v) {
    if (!v) return { tone: 'neutral', text: 'Caller ID not attested (no STIR/SHAKEN data on this call)' };
    if (/Passed-A$/.test(v)) return { tone: 'good', text: 'Caller ID verified by the carrier (attestation A)' };
    if (/Passed-B$/.test(v)) return { tone: 'warn', text: 'Carrier knows the caller, not that they own this number (B)' };
    if (/Passed-C$/.test(v)) return { tone: 'warn', text: 'Carrier only knows where the call entered its network (C)' };
    if (/Failed/.test(v)) return { tone: 'bad', text: 'Caller ID failed carrier verification: may be spoofed' };
    if (/^No-TN-Validation/.test(v)) return { tone: 'neutral', text: 'Carrier did not verify the caller ID' };
    return { tone: 'neutral', text: 'Caller ID attestation: ' + v };
  }

  var SKIPPED_WORDS = { country_not_allowed: 'the country is not allowed for codes', number_type_not_allowed: 'this kind of number does not take texts', rate_limited_number: 'too many codes went to this number this hour' };
  function possessionWords(v, skipped) {
    if (skipped) return { tone: 'neutral', text: 'Possession not checked: no code was texted (' + (SKIPPED_WORDS[skipped] || skipped) + ')' };
    if (v === 'verified') return { tone: 'good', text: 'Possession verified: the caller keyed in the code texted to this number' };
    if (v === 'failed') return { tone: 'bad', text: 'Possession check failed: the caller did not key in the texted code' };
    if (v === 'pending') return { tone: 'warn', text: 'Possession check in progress: code texted, waiting for the caller' };
    return { tone: 'neutral', text: 'Possession not checked (no code was sent)' };
  }

  // Display only (storage is E.164): NANP as +1 415 555 0100; other countries keep E.164, which is exact.
  function fmtE164(n) {
    var m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(n || '');
    return m ? '+1 ' + m[1] + ' ' + m[2] + ' ' + m[3] : n;
  }

  function fmtAgo(ms) {
    if (!ms) return 'never';
    var days = Math.floor((Date.now() - ms) / 86400000);
    var d = new Date(ms);
    if (new Date().toDateString() === d.toDateString()) return 'today, ' + d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    if (days <= 1) return 'yesterday';
    if (days < 14) return days + ' days ago';
    return d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
  }

  function fmtTime(ms) {
    if (!ms) return 'never';
    var d = new Date(ms);
    var today = new Date();
    var sameDay = d.toDateString() === today.toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
      : d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
  }

  function dashboardLink(userId) {
    if (!state.dashboardBase) return null;
    return el('a', { href: state.dashboardBase + encodeURIComponent(userId), target: '_blank', rel: 'noopener noreferrer',
      className: 'dash', text: 'Open in Auth0' }, []);
  }

  function renderMatch(m) {
    var badges = [];
    badges.push(el('span', { className: 'badge ' + (m.verified ? 'good' : 'warn'), text: m.verified ? 'Verified' : 'Unverified' }));
    if (m.blocked) badges.push(el('span', { className: 'badge bad', text: 'Blocked' }));
    var sources = (m.sources || []).map(function (s) { return SOURCE_WORDS[s] || s; }).join(', ');
    return el('li', { className: 'match' + (m.blocked ? ' blocked' : ''), 'data-user-id': m.userId }, [
      el('div', { className: 'match-head' }, [
        el('span', { className: 'rank', title: m.evidence || null, text: '#' + m.rank }),
        el('strong', { className: 'name', text: m.name || m.email || m.userId }),
        el('span', { className: 'badges' }, badges),
      ]),
      el('dl', { className: 'facts' }, [
        el('dt', { text: 'Email' }), el('dd', { text: m.email || 'none on file' }),
        el('dt', { text: 'User id' }), el('dd', {}, [el('code', { text: m.userId })]),
        el('dt', { text: 'Connection' }), el('dd', { text: m.connection || 'unknown' }),
        el('dt', { text: 'Number from' }), el('dd', { text: sources }),
        el('dt', { text: 'Last login' }), el('dd', {}, [m.lastLoginAt ? el('time', { datetime: new Date(m.lastLoginAt).toISOString(), text: fmtAgo(m.lastLoginAt) }) : 'never']),
      ]),
      dashboardLink(m.userId),
    ]);
  }

  function renderMatches(matches, sharedLine) {
    var nodes = [];
    if (!matches || matches.length === 0) {
      nodes.push(el('p', { className: 'notice neutral no-match', text: 'No account uses this number.' }));
      return nodes;
    }
    if (sharedLine || matches.length > 1) {
      nodes.push(el('p', { className: 'notice warn shared', role: 'note',
        text: 'Shared line: ' + matches.length + ' accounts use this number. Ask who is calling before you act.' }));
    }
    nodes.push(el('ol', { className: 'matches', 'aria-label': matches.length + ' matching ' + (matches.length === 1 ? 'account' : 'accounts') },
      matches.map(renderMatch)));
    return nodes;
  }

  function renderCard(v, headingLevel) {
    var isVoice = v.channel === 'voice';
    var withheld = !v.e164;
    var stir = stirWords(v.stirVerstat);
    var flags = v.flags || {};
    var possession = possessionWords(v.callerVerification, flags.verificationSkipped);
    var status = STATUS_WORDS[v.status] || v.status;
    var notices = [];
    if (withheld) notices.push(el('p', { className: 'notice warn withheld', text: v.callerDisplay === 'Number withheld'
      ? 'The caller withheld their number: nothing to match. Verify identity another way.'
      : 'The caller is not a phone number (' + (v.fromReason || 'unknown') + '): nothing to match.' }));
    if (flags.lookupFailed) notices.push(el('p', { className: 'notice bad', text: 'The lookup failed or timed out: the caller was routed without a match. Use the manual lookup.' }));
    if (flags.policyWarning) notices.push(el('p', { className: 'notice warn policy', text: 'Enrollment policy warning: this number is also enrolled for MFA on another account.' }));
    var heading = el('h' + headingLevel, { className: 'caller' }, [
      el('span', { className: 'channel', text: isVoice ? 'Call' : 'Text' }), ' from ',
      el('span', { className: 'number' + (withheld ? ' is-withheld' : ''), text: v.callerDisplay }),
    ]);
    var trust = isVoice ? el('ul', { className: 'trust', 'aria-label': 'How much to trust the caller ID' }, [
      el('li', { className: 'badge ' + stir.tone, text: stir.text }),
      el('li', { className: 'badge ' + possession.tone + ' possession', text: possession.text }),
    ]) : null;
    var meta = el('p', { className: 'meta' }, [
      el('span', { className: 'status status-' + String(v.status).replace(/[^a-z-]/g, ''), text: status }), ' · ',
      el('time', { datetime: new Date(v.createdAt).toISOString(), text: fmtTime(v.createdAt) }),
      v.to ? ' · to ' + fmtE164(v.to) : '',
    ]);
    var children = [heading, meta, trust].concat(notices);
    if (!withheld) children = children.concat(renderMatches(v.matches, v.sharedLine));
    if (state.mode === 'console') children.push(el('a', { className: 'pop-link', href: '/agent/pop/' + encodeURIComponent(v.id), text: 'Open screen pop' }));
    return el('article', { className: 'card ' + (isVoice ? 'voice' : 'sms') + (withheld ? ' withheld' : ''),
      'data-interaction-id': v.id, 'data-twilio-sid': v.twilioSid, 'data-version': v.updatedAt, 'aria-label': (isVoice ? 'Call' : 'Text') + ' from ' + v.callerDisplay }, children);
  }

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
