/**
 * A test app wired for the Auth0 feed: a real app and database (createTestContext), a loopback fake Twilio,
 * and the real Twilio REST client pointed at it. An adjustable clock for rate-limit windows.
 *
 *   const f = await createAuth0Fixture({ env: { ENROLLMENT_POLICY: 'block' } });
 *   await postAuth0Event(f.ctx.app, deliverEvent({ … }));
 *   f.twilio.messages …; f.clock.advance(61 * 60_000); await f.close();
 * Nothing here stands in for Auth0: the bodies are callerpop's own contract with its Action scripts
 * (src/auth0-feed/events.ts). Auth0's side, with its citations, is in auth0-actions.ts and
 * auth0-action-events.ts.
 */
import { type ConfigInput, parseConfig } from '../../src/config.js';
import { createTwilioRest } from '../../src/twilio/rest.js';
import { createTestContext, TEST_ENV, type TestContext } from './context.js';
import { type FakeTwilio, startFakeTwilio } from './fake-twilio.js';

export const TWILIO_FROM = '+15005550006';

export interface Auth0Fixture {
  ctx: TestContext;
  twilio: FakeTwilio;
  clock: { now: number; advance(ms: number): void };
  close(): Promise<void>;
}

export async function createAuth0Fixture(options: { env?: ConfigInput; fixedClock?: boolean } = {}) {
  const twilio = await startFakeTwilio({
    accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
  });
  const env: ConfigInput = {
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_FROM_NUMBER: TWILIO_FROM,
    ...options.env,
  };
  const config = parseConfig({ ...TEST_ENV, ...env });
  // Real time moves on by default (signatures are checked against it); `advance` shifts it.
  let offset = 0;
  const clock = {
    get now() {
      return Date.now() + offset;
    },
    advance(ms: number) {
      offset += ms;
    },
  };
  const ctx = await createTestContext({
    env,
    deps: { twilio: createTwilioRest({ config, fetch }), now: () => clock.now },
  });
  let closed = false;
  return {
    ctx,
    twilio,
    clock,
    close: async () => {
      // Idempotent: a suite's afterEach may meet a fixture an earlier test already closed.
      if (closed) return;
      closed = true;
      ctx.close();
      await twilio.close();
    },
  } satisfies Auth0Fixture;
}

export const ALICE = {
  user_id: 'auth0|alice',
  email: 'alice@example.com',
  name: 'Alice Example',
  connection: 'Username-Password-Authentication',
};
export const BOB = {
  user_id: 'auth0|bob',
  email: 'bob@example.com',
  name: 'Bob Example',
  connection: 'Username-Password-Authentication',
};

/**
 * A `phone.deliver` body as the phone Actions send it (src/auth0-feed/events.ts). `user: null` is a message
 * for no user yet; `flow` is left out unless given (older scripts send none).
 */
export function deliverEvent(options: {
  user?: Record<string, unknown> | null;
  purpose?: string;
  flow?: string;
  channel?: 'sms' | 'voice';
  recipient?: string;
  /** null: a message without a code. */
  code?: string | null;
  locale?: string;
  trigger?: string;
  at?: number;
  /** The message text Auth0 rendered; default: the code and a few words. */
  text?: string;
}) {
  const code = options.code === undefined ? '482910' : options.code;
  return {
    type: 'phone.deliver',
    occurred_at: options.at ?? Date.now(),
    trigger: options.trigger ?? 'send-phone-message',
    user: options.user === undefined ? ALICE : options.user,
    message: {
      purpose: options.purpose ?? 'enrollment',
      ...(options.flow ? { flow: options.flow } : {}),
      channel: options.channel ?? 'sms',
      recipient: options.recipient ?? '+14155550100',
      ...(code === null ? {} : { code }),
      text: options.text ?? `${code} is your verification code`,
      ...(options.locale ? { locale: options.locale } : {}),
    },
  };
}

/** Rows of a table, for assertions on what was (not) written. */
export async function rows(ctx: TestContext, sql: string, args: (string | number)[] = []) {
  return (await ctx.deps.db.$client.execute({ sql, args })).rows.map((r) => ({ ...r }));
}
