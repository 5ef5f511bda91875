/**
 * Signs `POST /auth0/events` requests the way the Action scripts do, with the `standardwebhooks` reference
 * library (so the server's own verifier is checked against an independent implementation).
 *
 *   const res = await postAuth0Event(ctx.app, { type: 'user.login', occurred_at: Date.now(), user, mfa: {} });
 *   const res = await postAuth0Event(ctx.app, body, { id: 'msg_same', timestamp: new Date(Date.now() - 301_000) });
 * The signature scheme is callerpop's choice for its Actions (Standard Webhooks), not something Auth0 does.
 */
import { Webhook } from 'standardwebhooks';
import { TEST_ENV } from './context.js';

export interface SignOptions {
  /** One or several secrets: one signature each, space-separated (rotation). */
  secrets?: string[];
  id?: string;
  timestamp?: Date;
}

export function signAuth0Body(body: string, options: SignOptions = {}) {
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? new Date();
  const secrets = options.secrets ?? [TEST_ENV.AUTH0_WEBHOOK_SECRET];
  const signature = secrets.map((s) => new Webhook(s).sign(id, timestamp, body)).join(' ');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

interface RequestsApp {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

export async function postAuth0Event(
  app: RequestsApp,
  event: unknown,
  options: SignOptions & { rawBody?: string } = {},
): Promise<Response> {
  const body = options.rawBody ?? JSON.stringify(event);
  return app.request('/auth0/events', { method: 'POST', headers: signAuth0Body(body, options), body });
}

/** A fresh whsec_ secret (32 random bytes). */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}
