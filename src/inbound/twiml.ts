import MessagingResponse from 'twilio/lib/twiml/MessagingResponse';
import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';
import type { Config } from '../config.js';

/**
 * TwiML as pure functions of config and input, built with Twilio's own TwiML classes so escaping and
 * element names are Twilio's. Nothing here touches the database: a call is routed whatever the index says.
 */

export type TwimlConfig = Pick<
  Config,
  'PUBLIC_BASE_URL' | 'VOICE_GREETING' | 'VOICE_MENU' | 'VOICE_LANGUAGE' | 'ROUTE_TO' | 'SMS_AUTO_REPLY'
>;

export interface MenuOption {
  digit: string;
  queue: string;
}

type SayLanguage = NonNullable<VoiceResponse.SayAttributes['language']>;
type Target = Config['ROUTE_TO'];

const STATUS_EVENTS: ('initiated' | 'ringing' | 'answered' | 'completed')[] = [
  'initiated',
  'ringing',
  'answered',
  'completed',
];
const MENU_TIMEOUT_SECONDS = 5;

/** "1:sales,2:support" → [{ digit: '1', queue: 'sales' }, …]; malformed entries are ignored. */
export function parseVoiceMenu(menu: string | undefined): MenuOption[] {
  if (!menu) return [];
  const options: MenuOption[] = [];
  for (const entry of menu.split(',')) {
    const match = /^\s*(\d)\s*:\s*(.+?)\s*$/.exec(entry);
    if (match?.[1] && match[2] && !options.some((o) => o.digit === match[1]))
      options.push({ digit: match[1], queue: match[2] });
  }
  return options;
}

const statusCallbackUrl = (config: TwimlConfig) => `${config.PUBLIC_BASE_URL}/twilio/voice/status`;
const interactionQuery = (id: string) => `?interaction=${encodeURIComponent(id)}`;
const sayAttributes = (config: TwimlConfig) => ({ language: config.VOICE_LANGUAGE as SayLanguage });

function appendRoute(response: VoiceResponse, config: TwimlConfig, target: Target, id: string): void {
  if (target.kind === 'queue') {
    response.enqueue(target.target);
    return;
  }
  // answerOnBridge: the caller keeps hearing ringing until an agent picks up, as with a normal phone.
  const dial = response.dial({ answerOnBridge: true });
  const callback = {
    statusCallback: statusCallbackUrl(config),
    statusCallbackEvent: STATUS_EVENTS,
    statusCallbackMethod: 'POST',
  };
  if (target.kind === 'client') {
    const client = dial.client(callback);
    client.identity(target.target);
    client.parameter({
      name: 'popUrl',
      value: `${config.PUBLIC_BASE_URL}/agent/pop/${encodeURIComponent(id)}`,
    });
    client.parameter({ name: 'interactionId', value: id });
  } else if (target.kind === 'number') {
    dial.number(callback, target.target);
  } else {
    dial.sip(callback, target.target);
  }
}

/** A one-digit menu; no key pressed falls through to the configured route. */
function appendMenu(
  response: VoiceResponse,
  config: TwimlConfig,
  options: MenuOption[],
  id: string,
  greeting?: string,
) {
  const gather = response.gather({
    numDigits: 1,
    action: `${config.PUBLIC_BASE_URL}/twilio/voice/menu${interactionQuery(id)}`,
    method: 'POST',
    timeout: MENU_TIMEOUT_SECONDS,
  });
  if (greeting) gather.say(sayAttributes(config), greeting);
  const prompt = options.map((o) => `For ${o.queue}, press ${o.digit}.`).join(' ');
  gather.say(sayAttributes(config), prompt);
}

function buildRouting(response: VoiceResponse, config: TwimlConfig, id: string, greeting?: string) {
  const menu = parseVoiceMenu(config.VOICE_MENU);
  if (menu.length > 0) {
    appendMenu(response, config, menu, id, greeting);
  } else if (greeting) {
    response.say(sayAttributes(config), greeting);
  }
  appendRoute(response, config, config.ROUTE_TO, id);
}

/**
 * The routing part of the IVR: the menu (if configured), then the configured route. The caller
 * verification steps end with this too.
 */
export function routingTwiml(config: TwimlConfig, input: { interactionId: string }): string {
  const response = new VoiceResponse();
  buildRouting(response, config, input.interactionId);
  return response.toString();
}

/**
 * The answer to an inbound call: the greeting, then either routing or (when caller verification applies)
 * a redirect to the verification steps, which end with routingTwiml.
 */
export function voiceTwiml(
  config: TwimlConfig,
  input: { interactionId: string; verifyCaller: boolean },
): string {
  const response = new VoiceResponse();
  if (input.verifyCaller) {
    response.say(sayAttributes(config), config.VOICE_GREETING);
    response.redirect(
      { method: 'POST' },
      `${config.PUBLIC_BASE_URL}/twilio/voice/verify/start${interactionQuery(input.interactionId)}`,
    );
  } else {
    buildRouting(response, config, input.interactionId, config.VOICE_GREETING);
  }
  return response.toString();
}

/** The menu step: the digit pressed picks a queue; anything else takes the configured route. */
export function menuTwiml(config: TwimlConfig, input: { interactionId: string; digits: string }): string {
  const option = parseVoiceMenu(config.VOICE_MENU).find((o) => o.digit === input.digits.trim());
  const response = new VoiceResponse();
  const target: Target = option ? { kind: 'queue', target: option.queue } : config.ROUTE_TO;
  appendRoute(response, config, target, input.interactionId);
  return response.toString();
}

/**
 * Whether VERIFY_CALLER sends callers through the code check before routing: every caller or none, never
 * depending on whether the number is known (that difference would tell a caller it is).
 */
export function shouldVerifyCaller(config: Pick<Config, 'VERIFY_CALLER'>): boolean {
  return config.VERIFY_CALLER === 'always';
}

/** The answer to an inbound SMS: nothing, or the configured auto-reply. */
export function smsTwiml(config: Pick<Config, 'SMS_AUTO_REPLY'>): string {
  const response = new MessagingResponse();
  if (config.SMS_AUTO_REPLY) response.message(config.SMS_AUTO_REPLY);
  return response.toString();
}

/** What an inbound webhook answers: a text's answer (config alone: built once per app), a call's by its matches. */
export interface InboundAnswers {
  sms: string;
  voice(callSid: string): string;
}

/**
 * A call's TwiML names its interaction by CallSid (screen-pop URL, menu and verification steps), not by the
 * interaction's id: the id is made per delivery, and after a fail-open the row may be written by another
 * delivery of the same call (a retry, or the original), so an id in the answer could name a row that never
 * exists. The SID is the same on every delivery, and everything that reads it accepts one.
 */
export function inboundAnswers(config: Config): InboundAnswers {
  return {
    sms: smsTwiml(config),
    // The same answer whatever the matches: nothing in it tells the caller whether their number is known.
    voice: (callSid) =>
      voiceTwiml(config, { interactionId: callSid, verifyCaller: shouldVerifyCaller(config) }),
  };
}
