/**
 * `npm run seed:demo` — fills the local index with a small, believable demo set so the quick start shows
 * matches: a family sharing one number, a user with two numbers, passwordless users, a blocked account and
 * verified MFA phones. Every number is valid for libphonenumber-js and sits in a fictional range (NANP
 * 555-01xx, Ofcom 020 7946 0xxx). Idempotent: the event times are fixed, so a second run changes nothing.
 */

import type { PhoneSource } from '../src/db/schema.js';
import { openDatabase } from '../src/node/deps.js';
import { loadNodeConfig } from '../src/node/env.js';
import { upsertAccounts, upsertLinks } from '../src/phone-index/write-queries.js';
import { formatPhoneForHumans } from '../src/shared/phone/format.js';
import { normalizePhone } from '../src/shared/phone/normalize.js';

const AT = Date.UTC(2026, 0, 15, 9, 30);
const DAY = 24 * 60 * 60 * 1000;

interface DemoAccount {
  userId: string;
  name: string;
  email: string | null;
  connection: string;
  blocked?: boolean;
  lastLoginDaysAgo: number;
  phones: { e164: string; source: PhoneSource; verified: boolean }[];
  story: string;
}

export const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    userId: 'auth0|demo-dana-rivera',
    name: 'Dana Rivera',
    email: 'dana.rivera@example.com',
    connection: 'Username-Password-Authentication',
    lastLoginDaysAgo: 1,
    phones: [{ e164: '+14155550100', source: 'mfa_sms', verified: true }],
    story: 'parent on the family line, verified SMS MFA',
  },
  {
    userId: 'sms|demo-sam-rivera',
    name: 'Sam Rivera',
    email: null,
    connection: 'sms',
    lastLoginDaysAgo: 3,
    phones: [{ e164: '+14155550100', source: 'passwordless', verified: true }],
    story: 'teenager on the same family line, passwordless SMS',
  },
  {
    userId: 'auth0|demo-priya-natarajan',
    name: 'Priya Natarajan',
    email: 'priya@example.com',
    connection: 'Username-Password-Authentication',
    lastLoginDaysAgo: 0,
    phones: [
      { e164: '+14155550123', source: 'mfa_sms', verified: true },
      { e164: '+442079460958', source: 'profile', verified: true },
    ],
    story: 'one person, two numbers (US mobile for MFA, London office in her profile)',
  },
  {
    userId: 'sms|demo-lee-chen',
    name: 'Lee Chen',
    email: null,
    connection: 'sms',
    lastLoginDaysAgo: 12,
    phones: [{ e164: '+12065550142', source: 'passwordless', verified: true }],
    story: 'passwordless SMS user, no email',
  },
  {
    userId: 'auth0|demo-marco-bianchi',
    name: 'Marco Bianchi',
    email: 'marco.bianchi@example.com',
    connection: 'Username-Password-Authentication',
    lastLoginDaysAgo: 30,
    phones: [{ e164: '+12125550147', source: 'mfa_voice', verified: true }],
    story: 'verified voice MFA',
  },
  {
    userId: 'auth0|demo-former-contractor',
    name: 'Jordan Blake',
    email: 'jordan.blake@contractor.example',
    connection: 'Username-Password-Authentication',
    blocked: true,
    lastLoginDaysAgo: 200,
    phones: [{ e164: '+14155550188', source: 'profile', verified: false }],
    story: 'blocked account, unverified profile phone',
  },
];

async function main() {
  const { config } = loadNodeConfig();
  const { client, db } = await openDatabase(config);
  try {
    for (const account of DEMO_ACCOUNTS) {
      for (const phone of account.phones) {
        const check = normalizePhone(phone.e164);
        if (!check.ok || check.e164 !== phone.e164)
          throw new Error(`demo number ${phone.e164} is not a valid E.164 number`);
      }
    }
    await db.transaction(async (tx) => {
      await upsertAccounts(
        tx,
        DEMO_ACCOUNTS.map((a) => ({
          userId: a.userId,
          name: a.name,
          email: a.email,
          connection: a.connection,
          blocked: a.blocked ?? false,
          lastLoginAt: AT - a.lastLoginDaysAgo * DAY,
          at: AT,
        })),
      );
      await upsertLinks(
        tx,
        DEMO_ACCOUNTS.flatMap((a) => a.phones.map((p) => ({ ...p, userId: a.userId, at: AT }))),
      );
    });
    console.log(`Demo index ready in ${config.DATABASE_URL}:\n`);
    for (const account of DEMO_ACCOUNTS) {
      const numbers = account.phones.map((p) => `${formatPhoneForHumans(p.e164)} (${p.source})`).join(', ');
      console.log(`  ${account.name.padEnd(16)} ${numbers}\n  ${''.padEnd(16)} ${account.story}`);
    }
    console.log(
      '\nTry:  npm run simulate -- call +14155550100     (the family line: two accounts)\n' +
        '      npm run simulate -- sms +14155550123 "Hi, it\'s Priya"\n' +
        '      npm run simulate -- call +14155550188     (a blocked account)',
    );
  } finally {
    client.close();
  }
}

await main();
