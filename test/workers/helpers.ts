import { env, exports } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { getExpectedTwilioSignature } from 'twilio/lib/webhooks/webhooks';

/**
 * Helpers for the workerd suite. Requests go to the Worker's real default export (`exports.default`), signed
 * with the secrets the suite gave the Worker, through Twilio's own signing function.
 */

export const BASE = env.PUBLIC_BASE_URL;

export function worker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

let sequence = 0;
/** A Twilio-shaped SID, unique per isolate run. */
export function sid(prefix: 'CA' | 'SM'): string {
  sequence += 1;
  const random = crypto.randomUUID().replaceAll('-', '').slice(0, 24);
  return `${prefix}${sequence.toString(16).padStart(8, '0')}${random}`;
}

/** A form POST signed as Twilio signs it: the public URL plus every parameter, HMAC-SHA1 of the auth token. */
export function twilioPost(path: string, params: Record<string, string>): Promise<Response> {
  const signature = getExpectedTwilioSignature(env.TWILIO_AUTH_TOKEN, `${BASE}${path}`, params);
  return worker(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'user-agent': 'TwilioProxy/1.1',
    },
    body: new URLSearchParams(params).toString(),
  });
}

/**
 * An event POSTed to /auth0/events as callerpop's Actions send it: JSON signed per Standard Webhooks with the
 * shared secret (another secret or a chosen webhook-id for the tests that need them).
 */
export function postActionEvent(
  event: unknown,
  secret: string = env.AUTH0_WEBHOOK_SECRET,
  id = `msg_${crypto.randomUUID()}`,
): Promise<Response> {
  const body = JSON.stringify(event);
  const timestamp = new Date();
  return worker('/auth0/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, timestamp, body),
    },
    body,
  });
}

export function voiceParams(from: string, callSid = sid('CA')): Record<string, string> {
  return {
    AccountSid: env.TWILIO_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: 'ringing',
    Called: '+14155550199',
    Caller: from,
    Direction: 'inbound',
    From: from,
    FromCountry: 'US',
    StirVerstat: 'TN-Validation-Passed-A',
    To: '+14155550199',
    ToCountry: 'US',
  };
}

/** Collects a socket's JSON frames and lets a test wait for the one it expects. */
export function frames(ws: WebSocket) {
  const received: Record<string, unknown>[] = [];
  const waiters: {
    match: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  ws.addEventListener('message', (event) => {
    const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
    received.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  return {
    received,
    next(match: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      const seen = received.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
