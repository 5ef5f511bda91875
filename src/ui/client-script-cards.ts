/**
 * The card rendering part of the console's script (see client-script.ts, which splices it into its one
 * function scope): the DOM builder `el`, the words for sources, statuses, STIR/SHAKEN and possession, and
 * renderMatch / renderMatches / renderCard, which turn an interaction's JSON into a card. It reads the page
 * state (`state.mode`, `state.dashboardBase`) declared by client-script.ts and touches nothing else.
 * Not a script on its own; the same syntax rules apply (ES2017, no template literals, textContent only).
 */
export const CLIENT_SCRIPT_CARDS = String.raw`
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

  // The form of the dashboard's own links to a user: standard base64 of the URL-encoded user id, '=' padding
  // removed, percent-encoded for the path. Confirmed from dashboard URLs published beside their user ids in
  // public repositories: users/YXV0aDAlN0M2MWVjNTJlOGEzY2YyNTAwNjhiOGNlZmU is auth0|61ec52e8a3cf250068b8cefe.
  // (Auth0's docs show no per-user dashboard URL; encodeURIComponent makes the id ASCII, so btoa takes it.)
  function dashboardUserPath(userId) {
    return encodeURIComponent(btoa(encodeURIComponent(userId)).replace(/=+$/, ''));
  }

  function dashboardLink(userId) {
    if (!state.dashboardBase) return null;
    return el('a', { href: state.dashboardBase + dashboardUserPath(userId), target: '_blank', rel: 'noopener noreferrer',
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

  // The same words on a card and in the manual lookup: ENROLLMENT_POLICY=warn let an account enroll this
  // number for MFA although another person already signed in with it.
  function policyNotice() {
    return el('p', { className: 'notice warn policy', role: 'note',
      text: 'Enrollment policy warning: this number was enrolled for MFA although another account already signs in with it. Ask who is calling before you act.' });
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
    if (flags.policyWarning || v.policyWarning) notices.push(policyNotice());
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
`;
