import type { Config } from '../config.js';
import type { TwilioOptions } from './cli-args.js';
import type { Reporter } from './report.js';
import type { TwilioState } from './state.js';
import { StepError, twilioFailure } from './step-error.js';
import type { TwilioClient } from './twilio-client.js';

/**
 * What `connect twilio` reads before it changes anything: the number (IncomingPhoneNumber resource, "Read":
 * `PhoneNumber` also matches partial numbers and `*`, so the exact number is compared here), what would
 * make its URLs useless ("The `voice_url` will not be used if a `voice_application_sid` or a `trunk_sid` is
 * set"; with `sms_application_sid` "we ignore all `sms_*_url`", [OAI] incoming_phone_number), and the
 * Messaging Service it belongs to, found by listing services and their numbers (the number resource names
 * none). The service's `inbound_request_url` wins unless `use_inbound_webhook_on_number` is on (Messaging
 * Service resource, `inbound_request_url`); the API's default for the flag is not stated, so it is read.
 */

export type TwilioConfig = Pick<
  Config,
  | 'PUBLIC_BASE_URL'
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_VERIFY_SERVICE_SID'
  | 'VOICE_GREETING'
  | 'VOICE_MENU'
  | 'VOICE_LANGUAGE'
  | 'ROUTE_TO'
  | 'SMS_AUTO_REPLY'
>;

export interface TwilioPass {
  dryRun: boolean;
  report: Reporter;
  client: TwilioClient;
  config: TwilioConfig;
  options: TwilioOptions;
  state: TwilioState;
  saveState(): void;
}

export type Fields = Record<string, string | null>;

export interface NumberFound {
  sid: string;
  phoneNumber: string;
  fields: Fields;
  blockers: string[];
}

export const NUMBER_FIELDS = [
  'voiceUrl',
  'voiceMethod',
  'voiceFallbackUrl',
  'voiceFallbackMethod',
  'smsUrl',
  'smsMethod',
  'statusCallback',
  'statusCallbackMethod',
] as const;

export async function twilioStep<T>(step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw twilioFailure(step, error);
  }
}

export async function findNumber(pass: TwilioPass): Promise<NumberFound> {
  const e164 = pass.options.number;
  // "You can specify partial numbers and use '*' as a wildcard": the exact number is compared here.
  const list = await twilioStep('find the number', () =>
    pass.client.incomingPhoneNumbers.list({ phoneNumber: e164 }),
  );
  const number = list.find((n) => n.phoneNumber === e164);
  if (!number)
    throw new StepError(
      'find the number',
      `${e164} is not a number of Twilio account ${pass.config.TWILIO_ACCOUNT_SID}`,
      'check --number and TWILIO_ACCOUNT_SID (a subaccount’s number needs that subaccount’s SID and auth token)',
    );
  const fields = Object.fromEntries(
    NUMBER_FIELDS.map((f) => [f, (number[f] as string | null | undefined) ?? null]),
  );
  const blockers: string[] = [];
  if (number.trunkSid)
    blockers.push(`its calls go to SIP trunk ${number.trunkSid}, which ignores the voice URL`);
  if (number.voiceApplicationSid)
    blockers.push(`its calls go to TwiML App ${number.voiceApplicationSid}, which ignores the voice URL`);
  if (number.smsApplicationSid)
    blockers.push(`its texts go to TwiML App ${number.smsApplicationSid}, which ignores the SMS URL`);
  return { sid: number.sid, phoneNumber: number.phoneNumber, fields, blockers };
}

export interface ServiceFound {
  sid: string;
  name: string;
  fields: Fields;
  /** The service's inbound URL is what Twilio calls for texts to the number. */
  overrides: boolean;
  otherNumbers: number;
}

/** The Messaging Service the number belongs to, if any. */
export async function findService(pass: TwilioPass, number: NumberFound): Promise<ServiceFound | undefined> {
  const services = await twilioStep('list the Messaging Services', () =>
    pass.client.messaging.v1.services.list(),
  );
  for (const service of services) {
    const members = await twilioStep(`list the numbers of Messaging Service ${service.sid}`, () =>
      pass.client.messaging.v1.services(service.sid).phoneNumbers.list(),
    );
    if (!members.some((m) => m.sid === number.sid || m.phoneNumber === number.phoneNumber)) continue;
    return {
      sid: service.sid,
      name: service.friendlyName,
      fields: {
        inboundRequestUrl: service.inboundRequestUrl ?? null,
        inboundMethod: service.inboundMethod ?? null,
      },
      overrides: service.useInboundWebhookOnNumber !== true,
      otherNumbers: members.length - 1,
    };
  }
  return undefined;
}
