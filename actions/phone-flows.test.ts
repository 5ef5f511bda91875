import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEnrollmentDecisions } from '../src/auth0-feed/queries.js';
import { upsertAccounts, upsertLinks } from '../src/phone-index/write-queries.js';
import {
  auth0User,
  type Connection,
  type CustomPhoneProviderModule,
  closeAuth0Fixture,
  confirmAliceByLogin,
  customPhoneProviderEvent,
  DATABASE_CONNECTION,
  loadAction,
  type MessageType,
  PHONE_READINGS,
  type PhoneReadings,
  runNotification,
  type ServedApp,
  SMS_CONNECTION,
  serveAuth0Fixture,
  smsUser,
} from '../test/support/auth0-actions.js';
import { type Auth0Fixture, rows } from '../test/support/auth0-context.js';

/**
 * The phone provider knows what it delivers. Under the Unified Phone Experience one custom-phone-provider
 * serves MFA, passwordless and phone-as-identifier (configure-unified-phone.mdx, "Before you start") and the
 * pages do not say which message_type each flow sends, whether event.user is filled before the user exists,
 * or whether event.connection is set. Under every reading (PHONE_READINGS) and ENROLLMENT_POLICY=block, with
 * Bob already signing in with NUMBER by SMS MFA:
 *  - a passwordless code is delivered and never becomes an MFA link (a passwordless link at most);
 *  - the one-number policy refuses MFA enrollments only;
 *  - what the documented fields cannot settle is delivered, and never indexed as MFA.
 */

const NUMBER = '+14155550100';
const BOB = 'auth0|bob';
const BLOCK_MESSAGE = 'Please use a different phone number.';

interface Scenario {
  name: string;
  event: (url: string, r: PhoneReadings) => ReturnType<typeof customPhoneProviderEvent>;
  /** The Auth0 user the code is for (null: none yet). */
  userId: string | null;
  expect: {
    outcome: 'sent' | 'dropped';
    /** NUMBER's links of this user afterwards. */
    links: (r: PhoneReadings) => string[];
    /** Whether ENROLLMENT_POLICY decided (MFA enrollment only). */
    decided: boolean;
  };
}

let nextCode = 0;

function event(
  url: string,
  r: PhoneReadings,
  options: {
    user: Record<string, unknown> | null;
    connection: Connection;
    messageType: MessageType;
    to?: string;
  },
) {
  return customPhoneProviderEvent(url, {
    user: options.user,
    connection: r.connection === 'present' ? options.connection : null,
    userFields: r.userFields,
    messageType: options.messageType,
    recipient: NUMBER,
    // Each message its own code: the same code to the same number is one message (the webhook-id's key).
    code: String(100000 + (nextCode++ % 900000)),
  });
}

const carol = auth0User({ user_id: 'auth0|carol', email: 'carol@example.com', phone_number: NUMBER });
const erin = auth0User({ user_id: 'google-oauth2|1077', email: 'erin@example.com', phone_number: NUMBER });
const googleConnection = { id: 'con_g', name: 'google-oauth2', strategy: 'google-oauth2', metadata: {} };

const SCENARIOS: Scenario[] = [
  {
    name: 'passwordless, first login (the user may not exist yet)',
    event: (url, r) =>
      event(url, r, {
        user: r.userBeforeCreation === 'empty' ? null : smsUser(NUMBER),
        connection: SMS_CONNECTION,
        messageType: r.signInCodeType,
      }),
    userId: 'sms|6612d0c3a1',
    expect: {
      outcome: 'sent',
      links: (r) => (r.userBeforeCreation === 'present' ? ['passwordless'] : []),
      decided: false,
    },
  },
  {
    name: 'passwordless, a returning user',
    event: (url, r) =>
      event(url, r, {
        user: smsUser(NUMBER, { user_id: 'sms|returning' }),
        connection: SMS_CONNECTION,
        messageType: r.signInCodeType,
      }),
    userId: 'sms|returning',
    expect: { outcome: 'sent', links: () => ['passwordless'], decided: false },
  },
  {
    name: 'phone as identifier, sign-up check (the user may not exist yet)',
    event: (url, r) =>
      event(url, r, {
        user: r.userBeforeCreation === 'empty' ? null : carol,
        connection: DATABASE_CONNECTION,
        messageType: r.signInCodeType,
      }),
    userId: 'auth0|carol',
    expect: { outcome: 'sent', links: () => [], decided: false },
  },
  {
    name: "a database user's code to its own phone_number (identifier login, or MFA: undecidable)",
    event: (url, r) =>
      event(url, r, { user: carol, connection: DATABASE_CONNECTION, messageType: 'otp_enroll' }),
    userId: 'auth0|carol',
    expect: { outcome: 'sent', links: () => [], decided: false },
  },
  {
    name: 'MFA enrollment of a number another person signs in with',
    event: (url, r) =>
      event(url, r, { user: auth0User(), connection: DATABASE_CONNECTION, messageType: 'otp_enroll' }),
    userId: 'auth0|alice',
    expect: { outcome: 'dropped', links: () => [], decided: true },
  },
  {
    name: 'MFA enrollment by a social user of its own profile number (only databases use phone as identifier)',
    event: (url, r) => event(url, r, { user: erin, connection: googleConnection, messageType: 'otp_enroll' }),
    userId: 'google-oauth2|1077',
    expect: { outcome: 'dropped', links: () => [], decided: true },
  },
  {
    name: 'MFA challenge (otp_verify) of an existing database user',
    event: (url, r) =>
      event(url, r, {
        user: auth0User({ user_id: 'auth0|frank', email: 'frank@example.com' }),
        connection: DATABASE_CONNECTION,
        messageType: 'otp_verify',
      }),
    userId: 'auth0|frank',
    expect: { outcome: 'sent', links: () => ['mfa_sms'], decided: false },
  },
];

describe.each(PHONE_READINGS)('custom-phone-provider flows, %s', (_name, readings) => {
  let f: Auth0Fixture;
  let served: ServedApp;
  const { onExecuteCustomPhoneProvider } = loadAction<CustomPhoneProviderModule>('custom-phone-provider');
  beforeAll(async () => {
    ({ f, served } = await serveAuth0Fixture({
      env: { ENROLLMENT_POLICY: 'block', ENROLLMENT_BLOCK_MESSAGE: BLOCK_MESSAGE },
    }));
    const at = Date.now() - 60_000;
    await upsertAccounts(f.ctx.deps.db, [{ userId: BOB, email: 'bob@example.com', at }]);
    await upsertLinks(f.ctx.deps.db, [{ e164: NUMBER, userId: BOB, source: 'mfa_sms', verified: true, at }]);
  });
  afterAll(() => closeAuth0Fixture(f, served));

  it.each(SCENARIOS)('$name', async (scenario) => {
    const sentBefore = f.twilio.messages.length;
    const run = await runNotification(onExecuteCustomPhoneProvider, scenario.event(served.url, readings));
    expect(run).toMatchObject({ outcome: scenario.expect.outcome, runs: 1, threw: [] });
    expect(f.twilio.messages.length - sentBefore).toBe(scenario.expect.outcome === 'sent' ? 1 : 0);

    const links = await rows(
      f.ctx,
      'select user_id, source from phone_links where e164 = ? and removed_at is null',
      [NUMBER],
    );
    // Bob's MFA phone is untouched, and nobody else's code made an MFA link to his number.
    expect(links.filter((l) => l.user_id === BOB)).toEqual([{ user_id: BOB, source: 'mfa_sms' }]);
    const own = links.filter((l) => l.user_id === scenario.userId).map((l) => String(l.source));
    expect(own.sort()).toEqual(scenario.expect.links(readings));
    const decisions = await listEnrollmentDecisions(f.ctx.deps.db, NUMBER, 100);
    expect(decisions.some((d) => d.userId === scenario.userId)).toBe(scenario.expect.decided);
  });

  it('never takes a code of another flow for MFA: only MFA codes are recorded as enrollment/authentication', async () => {
    const purposes = await rows(f.ctx, 'select user_id, purpose from otp_deliveries order by rowid');
    const mfaUsers = new Set(['auth0|alice', 'google-oauth2|1077', 'auth0|frank']);
    for (const row of purposes) {
      const mfa = row.purpose === 'enrollment' || row.purpose === 'authentication';
      expect(mfa, `${row.user_id}: ${row.purpose}`).toBe(mfaUsers.has(String(row.user_id)));
    }
  });
});

describe('an MFA login after a code of another flow', () => {
  it('proves no number: the passwordless or unclassified code is not taken as the MFA phone', async () => {
    const { f, served } = await serveAuth0Fixture();
    try {
      const { onExecuteCustomPhoneProvider } = loadAction<CustomPhoneProviderModule>('custom-phone-provider');
      // Alice (a database user) gets a code to her own phone_number: identifier login or MFA, undecidable.
      const alice = auth0User({ phone_number: NUMBER });
      const run = await runNotification(
        onExecuteCustomPhoneProvider,
        customPhoneProviderEvent(served.url, { user: alice, messageType: 'otp_verify' }),
      );
      expect(run.outcome).toBe('sent');
      // Her login then reports a phone MFA: nothing proves NUMBER is her MFA phone.
      expect(await confirmAliceByLogin(served.url)).toEqual([]);
      expect(await rows(f.ctx, "select count(*) as n from phone_links where source like 'mfa_%'")).toEqual([
        { n: 0 },
      ]);
    } finally {
      await closeAuth0Fixture(f, served);
    }
  });
});
