/**
 * `/agent/assets/frame.js`: the session handoff between the sign-in window and a framed console page (see
 * the agent session's handoff). Messages go to and are accepted from our own origin only.
 */

interface Handoff {
  type: 'callerpop-handoff';
  token: string;
}

const isHandoff = (data: unknown): data is Handoff =>
  typeof data === 'object' &&
  data !== null &&
  (data as Handoff).type === 'callerpop-handoff' &&
  typeof (data as Handoff).token === 'string' &&
  (data as Handoff).token.length <= 4096;

function sendHandoff(handoff: HTMLElement) {
  const token = handoff.getAttribute('data-token');
  if (!window.opener || !token) return;
  const message: Handoff = { type: 'callerpop-handoff', token };
  try {
    (window.opener as Window).postMessage(message, location.origin);
  } catch {
    return;
  }
  setTimeout(() => window.close(), 300);
}

function receiveHandoff() {
  const main = document.getElementById('main');
  // Opened with window.open so the sign-in window can reach this frame (a plain link would cut the opener).
  const start = document.getElementById('popup-sign-in');
  start?.addEventListener('click', (event) => {
    event.preventDefault();
    window.open(start.getAttribute('href') ?? '', 'callerpop-sign-in', 'popup,width=480,height=680');
  });
  window.addEventListener('message', (event) => {
    if (event.origin !== location.origin || !isHandoff(event.data)) return;
    const form = document.createElement('form');
    form.method = 'post';
    form.action = '/agent/login/handoff';
    const fields: [string, string][] = [
      ['token', event.data.token],
      ['returnTo', main?.getAttribute('data-return-to') || '/agent'],
    ];
    for (const [name, value] of fields) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  });
}

const handoff = document.getElementById('handoff');
if (handoff) sendHandoff(handoff);
else receiveHandoff();
