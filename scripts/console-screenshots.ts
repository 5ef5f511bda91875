/**
 * `npx tsx scripts/console-screenshots.ts` — renders the agent console in Chromium in a believable state
 * and saves docs/console.png (1280 px desk), docs/console-panel.png (400 px side panel) and docs/pop.png.
 * Everything goes through the real paths: signed Twilio webhooks, the push socket, the lookup API.
 */

import type { PhoneSource } from '../src/db/schema.js';
import { updateInteraction } from '../src/inbound/interaction-queries.js';
import { upsertAccounts, upsertLinks } from '../src/phone-index/write-queries.js';
import { startAgentServer } from '../test/support/agent-server.js';
import { launchChromium } from '../test/support/chromium.js';
import { smsParams, voiceParams } from '../test/support/twilio-sign.js';

const DAY = 86_400_000;
const now = Date.now();

const people: {
  userId: string;
  name: string;
  email: string | null;
  connection: string;
  blocked?: boolean;
  days: number;
  phones: [string, PhoneSource, boolean][];
}[] = [
  {
    userId: 'auth0|64f1c2a9e1b0d7',
    name: 'Dana Rivera',
    email: 'dana.rivera@example.com',
    connection: 'Username-Password-Authentication',
    days: 1,
    phones: [['+14155550100', 'mfa_sms', true]],
  },
  {
    userId: 'sms|65a0b3f7c2d941',
    name: 'Sam Rivera',
    email: null,
    connection: 'sms',
    days: 3,
    phones: [['+14155550100', 'passwordless', true]],
  },
  {
    userId: 'auth0|63d9e8f1a7c215',
    name: 'Priya Natarajan',
    email: 'priya@example.com',
    connection: 'Username-Password-Authentication',
    days: 0,
    phones: [
      ['+14155550123', 'mfa_sms', true],
      ['+442079460958', 'profile', true],
    ],
  },
  {
    userId: 'google-oauth2|10481236620937',
    name: 'Priya N.',
    email: 'priya.natarajan@gmail.example',
    connection: 'google-oauth2',
    days: 140,
    phones: [['+442079460958', 'profile', false]],
  },
  {
    userId: 'auth0|5fb7d0c4e3a812',
    name: 'Jordan Blake',
    email: 'jordan.blake@contractor.example',
    connection: 'Username-Password-Authentication',
    blocked: true,
    days: 200,
    phones: [['+14155550188', 'profile', false]],
  },
];

const s = await startAgentServer({ env: { AUTH0_DASHBOARD_TENANT: 'us/acme-support' } });
try {
  await upsertAccounts(
    s.deps.db,
    people.map((p) => ({
      userId: p.userId,
      name: p.name,
      email: p.email,
      connection: p.connection,
      blocked: p.blocked ?? false,
      lastLoginAt: now - p.days * DAY - 3_600_000,
      at: now - DAY,
    })),
  );
  await upsertLinks(
    s.deps.db,
    people.flatMap((p) =>
      p.phones.map(([e164, source, verified]) => ({
        e164,
        userId: p.userId,
        source,
        verified,
        at: now - DAY,
      })),
    ),
  );

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1180 }, deviceScaleFactor: 1 });
  await page.goto(`${s.url}/agent/login?token=${encodeURIComponent(s.config.ADMIN_TOKEN)}`);
  await page.locator('#live-status', { hasText: 'Live' }).waitFor();

  const send = async (path: string, params: Record<string, string | string[]>) => {
    const res = await s.twilioPost(path, params);
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  };
  const blocked = voiceParams('+14155550188', { StirVerstat: 'TN-Validation-Passed-C' });
  await send('/twilio/voice', blocked);
  await send('/twilio/voice/status', { ...blocked, CallStatus: 'completed', CallDuration: '95' });
  await send('/twilio/voice', voiceParams('anonymous', { StirVerstat: 'No-TN-Validation' }));
  await send('/twilio/sms', smsParams('+14155550123', 'Hi, it is Priya: my code never arrived'));
  const priya = voiceParams('+14155550123', { StirVerstat: 'TN-Validation-Passed-A' });
  await send('/twilio/voice', priya);
  await updateInteraction(
    s.deps.db,
    priya.CallSid as string,
    { callerVerification: 'verified', status: 'in-progress' },
    Date.now(),
  );
  const family = voiceParams('+14155550100', { StirVerstat: 'TN-Validation-Passed-A' });
  await send('/twilio/voice', family);
  await page.reload();
  await page.locator('#live-status', { hasText: 'Live' }).waitFor();

  await page.locator('#lookup-phone').fill('020 7946 0958');
  await page.locator('#lookup-region').fill('GB');
  await page.locator('#lookup-phone').press('Enter');
  await page.locator('#lookup-results .match').first().waitFor();
  await page.locator('#lookup-phone').blur();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: 'docs/console.png' });

  await page.setViewportSize({ width: 400, height: 900 });
  await page.locator('#lookup-phone').fill('');
  await page.evaluate(() => {
    const results = document.getElementById('lookup-results');
    if (results) results.textContent = '';
  });
  await page.locator('#lookup-phone').blur();
  await page.screenshot({ path: 'docs/console-panel.png' });

  const pop = await browser.newPage({ viewport: { width: 420, height: 760 } });
  await pop.context().addCookies(await page.context().cookies());
  await pop.goto(`${s.url}/agent/pop/${family.CallSid}`);
  await pop.locator('#live-status', { hasText: 'Live' }).waitFor();
  await pop.screenshot({ path: 'docs/pop.png' });
  await browser.close();
  console.log('wrote docs/console.png, docs/console-panel.png, docs/pop.png');
} finally {
  await s.stop();
}
