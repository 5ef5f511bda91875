import { routingTwiml, type TwimlConfig } from '../inbound/index.js';

/**
 * The number's voice fallback: what Twilio fetches when callerpop does not answer (or answers an error)
 * "an error occurs retrieving or executing the TwiML requested by `url`" ([OAI] incoming_phone_number
 * voice_fallback_url; /docs/errors/11205: Twilio then "try your fallback URL"). It must not be callerpop:
 * it routes the call as callerpop would, to ROUTE_TO, built by the same TwiML builder (src/inbound/twiml.ts)
 * so the two never disagree, but without the menu (its digits go to callerpop) and without a pop (nothing
 * was recorded: the interaction id in a softphone's parameters is the word `fallback`).
 *
 * Hosted by Twilio's echo twimlet, which "will just output whatever TwiML is passed into it via the URL"
 * (https://www.twilio.com/labs/twimlets/echo, parameter `Twiml`, "Remember to URL encode the TwiML"). A
 * twimlet is a Twilio Labs service with no stated SLA: `--fallback-url` takes a TwiML Bin of the account's own
 * instead (docs/connect.md shows the TwiML to paste). GET: the document is static, all of it in the URL.
 */

export const TWIMLET_ECHO = 'https://twimlets.com/echo';

export function fallbackTwiml(config: TwimlConfig): string {
  return routingTwiml({ ...config, VOICE_MENU: undefined }, { interactionId: 'fallback' });
}

export function twimletUrl(twiml: string): string {
  return `${TWIMLET_ECHO}?Twiml=${encodeURIComponent(twiml)}`;
}
