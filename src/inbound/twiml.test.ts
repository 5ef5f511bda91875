import { describe, expect, it } from 'vitest';
import {
  menuTwiml,
  parseVoiceMenu,
  routingTwiml,
  shouldVerifyCaller,
  smsTwiml,
  type TwimlConfig,
  voiceTwiml,
} from './twiml.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';
const CALLBACK =
  'statusCallback="https://pop.example.com/twilio/voice/status" ' +
  'statusCallbackEvent="initiated ringing answered completed" statusCallbackMethod="POST"';

const config: TwimlConfig = {
  PUBLIC_BASE_URL: 'https://pop.example.com',
  VOICE_GREETING: 'Thanks for calling Acme & Sons.',
  VOICE_MENU: undefined,
  VOICE_LANGUAGE: 'en-GB',
  ROUTE_TO: { kind: 'queue', target: 'support' },
  SMS_AUTO_REPLY: undefined,
};
const id = 'a1b2c3d4-0000-4000-8000-000000000001';
const greeting = '<Say language="en-GB">Thanks for calling Acme &amp; Sons.</Say>';

describe('voiceTwiml', () => {
  it('greets and enqueues', () => {
    expect(voiceTwiml(config, { interactionId: id, verifyCaller: false })).toBe(
      `${XML}<Response>${greeting}<Enqueue>support</Enqueue></Response>`,
    );
  });

  it('dials a Client with the screen-pop URL and interaction id as parameters', () => {
    const twiml = voiceTwiml(
      { ...config, ROUTE_TO: { kind: 'client', target: 'agent:desk 1' } },
      { interactionId: id, verifyCaller: false },
    );
    expect(twiml).toBe(
      `${XML}<Response>${greeting}<Dial answerOnBridge="true"><Client ${CALLBACK}>` +
        '<Identity>agent:desk 1</Identity>' +
        `<Parameter name="popUrl" value="https://pop.example.com/agent/pop/${id}"/>` +
        `<Parameter name="interactionId" value="${id}"/></Client></Dial></Response>`,
    );
  });

  it('dials a number with the status callback', () => {
    expect(
      routingTwiml(
        { ...config, ROUTE_TO: { kind: 'number', target: '+14155550142' } },
        { interactionId: id },
      ),
    ).toBe(
      `${XML}<Response><Dial answerOnBridge="true"><Number ${CALLBACK}>+14155550142</Number></Dial></Response>`,
    );
  });

  it('dials a SIP address', () => {
    expect(
      routingTwiml(
        { ...config, ROUTE_TO: { kind: 'sip', target: 'sip:agents@pbx.example.com;transport=tls' } },
        { interactionId: id },
      ),
    ).toBe(
      `${XML}<Response><Dial answerOnBridge="true"><Sip ${CALLBACK}>sip:agents@pbx.example.com;transport=tls</Sip></Dial></Response>`,
    );
  });

  it('wraps the greeting and the menu prompt in a one-digit <Gather>, then falls through to the route', () => {
    const menuConfig = { ...config, VOICE_MENU: '1:sales, 2:billing team' };
    expect(voiceTwiml(menuConfig, { interactionId: id, verifyCaller: false })).toBe(
      `${XML}<Response><Gather numDigits="1" action="https://pop.example.com/twilio/voice/menu?interaction=${id}" method="POST" timeout="5">` +
        `${greeting}<Say language="en-GB">For sales, press 1. For billing team, press 2.</Say></Gather>` +
        '<Enqueue>support</Enqueue></Response>',
    );
    expect(routingTwiml(menuConfig, { interactionId: id })).toBe(
      `${XML}<Response><Gather numDigits="1" action="https://pop.example.com/twilio/voice/menu?interaction=${id}" method="POST" timeout="5">` +
        '<Say language="en-GB">For sales, press 1. For billing team, press 2.</Say></Gather>' +
        '<Enqueue>support</Enqueue></Response>',
    );
  });

  it('redirects to caller verification instead of routing when asked', () => {
    expect(voiceTwiml(config, { interactionId: id, verifyCaller: true })).toBe(
      `${XML}<Response>${greeting}<Redirect method="POST">https://pop.example.com/twilio/voice/verify/start?interaction=${id}</Redirect></Response>`,
    );
  });
});

describe('menuTwiml', () => {
  const menuConfig = { ...config, VOICE_MENU: '1:sales,2:billing team' };
  it('routes the digit to its queue', () => {
    expect(menuTwiml(menuConfig, { interactionId: id, digits: '2' })).toBe(
      `${XML}<Response><Enqueue>billing team</Enqueue></Response>`,
    );
  });
  it('takes the configured route for any other key', () => {
    expect(menuTwiml(menuConfig, { interactionId: id, digits: '9' })).toBe(
      `${XML}<Response><Enqueue>support</Enqueue></Response>`,
    );
    expect(menuTwiml(menuConfig, { interactionId: id, digits: '' })).toBe(
      `${XML}<Response><Enqueue>support</Enqueue></Response>`,
    );
  });
});

describe('parseVoiceMenu', () => {
  it('reads digit:queue pairs, ignoring malformed and repeated digits', () => {
    expect(parseVoiceMenu('1:sales, 2 : support ,x:nope,12:nope,1:again')).toEqual([
      { digit: '1', queue: 'sales' },
      { digit: '2', queue: 'support' },
    ]);
    expect(parseVoiceMenu(undefined)).toEqual([]);
  });
});

describe('shouldVerifyCaller', () => {
  it('follows VERIFY_CALLER', () => {
    expect(shouldVerifyCaller({ VERIFY_CALLER: 'off' })).toBe(false);
    expect(shouldVerifyCaller({ VERIFY_CALLER: 'always' })).toBe(true);
  });
});

describe('smsTwiml', () => {
  it('answers nothing by default', () => {
    expect(smsTwiml({ SMS_AUTO_REPLY: undefined })).toBe(`${XML}<Response/>`);
  });
  it('answers the auto-reply, escaped', () => {
    expect(smsTwiml({ SMS_AUTO_REPLY: 'Got it — reply STOP to opt out. <3' })).toBe(
      `${XML}<Response><Message>Got it — reply STOP to opt out. &lt;3</Message></Response>`,
    );
  });
});
