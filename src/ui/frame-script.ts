/**
 * `/agent/assets/frame.js`: the session handoff between the sign-in window and a framed console page
 * (see `src/services/agent-session.ts`). Messages go to and are accepted from our own origin only.
 */
export const FRAME_SCRIPT = `(function () {
  'use strict';
  var handoff = document.getElementById('handoff');
  if (handoff) {
    var token = handoff.getAttribute('data-token');
    if (window.opener && token) {
      try { window.opener.postMessage({ type: 'callerpop-handoff', token: token }, location.origin); } catch (e) { return; }
      setTimeout(function () { window.close(); }, 300);
    }
    return;
  }
  var main = document.getElementById('main');
  // Opened with window.open so the sign-in window can reach this frame (a plain link would cut the opener).
  var start = document.getElementById('popup-sign-in');
  if (start) start.addEventListener('click', function (event) {
    event.preventDefault();
    window.open(start.getAttribute('href'), 'callerpop-sign-in', 'popup,width=480,height=680');
  });
  window.addEventListener('message', function (event) {
    if (event.origin !== location.origin) return;
    var data = event.data;
    if (!data || data.type !== 'callerpop-handoff' || typeof data.token !== 'string' || data.token.length > 4096) return;
    var form = document.createElement('form');
    form.method = 'post';
    form.action = '/agent/login/handoff';
    [['token', data.token], ['returnTo', (main && main.getAttribute('data-return-to')) || '/agent']].forEach(function (pair) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  });
})();
`;
