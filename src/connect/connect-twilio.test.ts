import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../../test/support/context.js';
import {
  type FakeTwilioNumbers,
  type NumberSeed,
  type ServiceSeed,
  startFakeTwilioNumbers,
} from '../../test/support/fake-twilio-numbers.js';
import { type ConnectSandbox, connectSandbox } from './test-support.js';

/**
 * `npm run connect -- twilio` through the real `twilio` SDK, sent to the loopback stand-in
 * (test/support/fake-twilio-numbers.ts) by connect's own httpClient.
 */

const BASE = 'https://pop.acme.example';
const NUMBER = '+14155550100';
const PREVIOUS = {
  phone_number: NUMBER,
  voice_url: 'https://old-ivr.acme.example/voice',
  voice_method: 'GET',
  sms_url: 'https://old-ivr.acme.example/sms',
  status_callback: null,
};

let twilio: FakeTwilioNumbers;
let box: ConnectSandbox;
afterEach(async () => {
  await twilio?.close();
  box?.close();
});

async function start(
  options: { numbers?: NumberSeed[]; services?: ServiceSeed[]; verify?: { friendly_name: string }[] } = {},
) {
  twilio = await startFakeTwilioNumbers({
    accountSid: TEST_ENV.TWILIO_ACCOUNT_SID,
    authToken: TEST_ENV.TWILIO_AUTH_TOKEN,
    numbers: options.numbers ?? [PREVIOUS],
    messagingServices: options.services,
    verifyServices: options.verify,
  });
  box = connectSandbox();
}
const run = (args: string[], env: Record<string, string> = {}) =>
  box.run(['twilio', '--number', NUMBER, ...args], { env, twilioHosts: twilio.hosts });
const fallbackTwimlOf = (url: unknown) => new URL(String(url)).searchParams.get('Twiml');

describe('connect twilio', () => {
  it('points the number’s voice, SMS and status callback at callerpop, with a fallback that routes', async () => {
    await start();
    const { code, stdout, stderr } = await run([]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(twilio.number(NUMBER)).toMatchObject({
      voice_url: `${BASE}/twilio/voice`,
      voice_method: 'POST',
      sms_url: `${BASE}/twilio/sms`,
      sms_method: 'POST',
      status_callback: `${BASE}/twilio/voice/status`,
      status_callback_method: 'POST',
      voice_fallback_method: 'GET',
    });
    const fallback = String(twilio.number(NUMBER)?.voice_fallback_url);
    expect(fallback.startsWith('https://twimlets.com/echo?Twiml=')).toBe(true);
    // ROUTE_TO (default queue:support), built by the app's own TwiML builder.
    expect(fallbackTwimlOf(fallback)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue>support</Enqueue></Response>',
    );
    expect(stdout).toContain('echo twimlet (a Twilio Labs service)');
    // One update, form-encoded as the SDK sends it.
    expect(twilio.writes().map((w) => w.path)).toEqual([
      `/2010-04-01/Accounts/${TEST_ENV.TWILIO_ACCOUNT_SID}/IncomingPhoneNumbers/${twilio.number(NUMBER)?.sid}.json`,
    ]);
    const recorded = JSON.parse(box.stateText()).twilio[TEST_ENV.TWILIO_ACCOUNT_SID].numbers;
    expect(Object.values(recorded)).toMatchObject([
      { phoneNumber: NUMBER, before: { voiceUrl: PREVIOUS.voice_url, voiceMethod: 'GET' } },
    ]);
  });

  it('routes the fallback like callerpop would, without the menu and without a pop', async () => {
    await start();
    await run([], { ROUTE_TO: 'client:front-desk', VOICE_MENU: '1:sales,2:support' });
    const twiml = fallbackTwimlOf(twilio.number(NUMBER)?.voice_fallback_url) ?? '';
    expect(twiml).not.toContain('<Gather');
    expect(twiml).toContain('<Dial answerOnBridge="true"><Client');
    expect(twiml).toContain('<Identity>front-desk</Identity>');
    expect(twiml).toContain(`<Parameter name="popUrl" value="${BASE}/agent/pop/fallback"/>`);
  });

  it('takes the operator’s own fallback (a TwiML Bin)', async () => {
    await start();
    await run(['--fallback-url', 'https://handler.twilio.com/twiml/EH0123']);
    expect(twilio.number(NUMBER)?.voice_fallback_url).toBe('https://handler.twilio.com/twiml/EH0123');
  });

  it('changes nothing on a second run, and a dry run changes nothing at all', async () => {
    await start();
    const dry = await run(['--dry-run']);
    expect(dry.code).toBe(0);
    expect(twilio.writes()).toEqual([]);
    expect(box.stateText()).toBe('');
    expect(dry.stdout).toContain(
      `~ number ${NUMBER} voiceUrl: https://old-ivr.acme.example/voice → ${BASE}/twilio/voice (would be done)`,
    );
    await run([]);
    const writes = twilio.writes().length;
    const again = await run([]);
    expect(again.code).toBe(0);
    expect(twilio.writes().length).toBe(writes);
    expect(again.stdout).toContain('Nothing to change');
  });
});

describe('connect twilio with a number in a Messaging Service', () => {
  it('points the service’s inbound URL when it overrides the number’s, and says so', async () => {
    await start({
      numbers: [PREVIOUS, { phone_number: '+14155550101' }],
      services: [
        {
          friendly_name: 'Acme notifications',
          inbound_request_url: 'https://crm.acme.example/sms',
          use_inbound_webhook_on_number: false,
          numbers: [NUMBER, '+14155550101'],
        },
      ],
    });
    const { code, stdout } = await run([]);
    expect(code).toBe(0);
    expect(twilio.service('Acme notifications')).toMatchObject({
      inbound_request_url: `${BASE}/twilio/sms`,
      inbound_method: 'POST',
    });
    // The number's own SMS URL is not used while the service's wins: left alone.
    expect(twilio.number(NUMBER)?.sms_url).toBe(PREVIOUS.sms_url);
    expect(twilio.number(NUMBER)?.voice_url).toBe(`${BASE}/twilio/voice`);
    expect(stdout).toContain("whose inbound request URL overrides the number's own");
    expect(stdout).toContain('texts to its 1 other number(s) reach callerpop too');
  });

  it('sets the number’s own SMS URL when the service defers to it', async () => {
    await start({
      services: [
        {
          friendly_name: 'Deferring',
          inbound_request_url: null,
          use_inbound_webhook_on_number: true,
          numbers: [NUMBER],
        },
      ],
    });
    await run([]);
    expect(twilio.number(NUMBER)?.sms_url).toBe(`${BASE}/twilio/sms`);
    expect(twilio.service('Deferring')?.inbound_request_url).toBeNull();
  });
});

describe('connect twilio --verify-phone', () => {
  it('creates the Verify service once and prints its SID', async () => {
    await start();
    const first = await run(['--verify-phone', '--verify-name', 'Acme']);
    expect(twilio.verifyServices()).toMatchObject([{ friendly_name: 'Acme', code_length: 6 }]);
    const sid = String(twilio.verifyServices()[0]?.sid);
    expect(first.stdout).toContain(`TWILIO_VERIFY_SERVICE_SID=${sid}`);
    await run(['--verify-phone', '--verify-name', 'Acme']);
    expect(twilio.verifyServices()).toHaveLength(1);
    const configured = await run(['--verify-phone'], { TWILIO_VERIFY_SERVICE_SID: sid });
    expect(configured.stdout).toContain(`= Verify service "Acme" (${sid})`);
  });

  it('refuses a TWILIO_VERIFY_SERVICE_SID that names no service', async () => {
    await start();
    const { code, stderr } = await run(['--verify-phone'], {
      TWILIO_VERIFY_SERVICE_SID: 'VA0000000000000000000000000000000f',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('names no Verify service');
  });
});

describe('connect twilio --undo', () => {
  it('puts back what it replaced, deletes the Verify service it made, and leaves what changed since', async () => {
    await start({
      services: [
        {
          friendly_name: 'Acme',
          inbound_request_url: 'https://crm.acme.example/sms',
          use_inbound_webhook_on_number: false,
          numbers: [NUMBER],
        },
      ],
    });
    await run(['--verify-phone']);
    // Someone changes the status callback in the Console afterwards.
    twilio.edit(NUMBER, { status_callback: 'https://reporting.acme.example/status' });
    const undo = await run(['--undo']);
    expect(undo.code).toBe(0);
    expect(twilio.number(NUMBER)).toMatchObject({
      voice_url: PREVIOUS.voice_url,
      voice_method: 'GET',
      voice_fallback_url: null,
      status_callback: 'https://reporting.acme.example/status',
    });
    expect(twilio.service('Acme')?.inbound_request_url).toBe('https://crm.acme.example/sms');
    expect(twilio.verifyServices()).toEqual([]);
    expect(undo.stdout).toContain('statusCallback: changed since connect set it');
    expect(JSON.parse(box.stateText()).twilio[TEST_ENV.TWILIO_ACCOUNT_SID]).toEqual({
      numbers: {},
      services: {},
    });
  });

  it('without a record, says it cannot restore the previous URLs and leaves callerpop’s', async () => {
    await start();
    await run([]);
    const elsewhere = connectSandbox();
    try {
      const undo = await elsewhere.run(['twilio', '--number', NUMBER, '--undo'], {
        twilioHosts: twilio.hosts,
      });
      expect(undo.code).toBe(0);
      expect(undo.stdout).toContain('cannot restore');
      expect(twilio.number(NUMBER)?.voice_url).toBe(`${BASE}/twilio/voice`);
    } finally {
      elsewhere.close();
    }
  });
});

describe('connect twilio when something is wrong', () => {
  it('names a number the account does not have', async () => {
    await start({ numbers: [{ phone_number: '+14155550199' }] });
    const { code, stderr } = await run([]);
    expect(code).toBe(1);
    expect(stderr).toContain(`failed at: find the number`);
    expect(stderr).toContain(`${NUMBER} is not a number of Twilio account ${TEST_ENV.TWILIO_ACCOUNT_SID}`);
  });

  it('relays Twilio’s error for bad credentials, with what to check', async () => {
    await start();
    const { code, stderr } = await run([], { TWILIO_AUTH_TOKEN: 'another-auth-token-0123456789' });
    expect(code).toBe(1);
    expect(stderr).toContain('Twilio answered HTTP 401 code 20003: Authentication Error - invalid username');
    expect(stderr).toContain('check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
  });

  it('stops at a number whose calls go to a TwiML App, saying how to free it', async () => {
    await start({ numbers: [{ ...PREVIOUS, voice_application_sid: 'AP0123456789abcdef0123456789abcdef' }] });
    const { code, stderr } = await run([]);
    expect(code).toBe(1);
    expect(stderr).toContain('TwiML App AP0123456789abcdef0123456789abcdef, which ignores the voice URL');
    expect(stderr).toContain('"Configure with" to Webhooks');
    expect(twilio.writes()).toEqual([]);
  });

  it('names the step and Twilio’s message when an update is refused', async () => {
    await start();
    twilio.failNext('POST', /IncomingPhoneNumbers\/PN/, 400, 21502, 'Invalid callback url');
    const { code, stderr } = await run([]);
    expect(code).toBe(1);
    expect(stderr).toContain(`failed at: update number ${NUMBER}`);
    expect(stderr).toContain(
      'Twilio answered HTTP 400 code 21502: Invalid callback url (https://www.twilio.com/docs/errors/21502)',
    );
  });
});
