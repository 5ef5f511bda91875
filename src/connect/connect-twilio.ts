import { StepError, twilioFailure } from './step-error.js';
import { fallbackTwiml, twimletUrl } from './twilio-fallback.js';
import { type Fields, findNumber, findService, type TwilioPass, twilioStep } from './twilio-number.js';

/**
 * `connect twilio`: the number's webhooks (IncomingPhoneNumber resource, "Update": VoiceUrl/VoiceMethod,
 * SmsUrl/SmsMethod, StatusCallback/StatusCallbackMethod, VoiceFallbackUrl/VoiceFallbackMethod), the
 * Messaging Service's inbound URL instead of the number's SMS URL when the service's wins (twilio-number.ts),
 * the voice fallback (twilio-fallback.ts) and the Verify service (Verify Service resource, "Create":
 * FriendlyName of at most 30 characters, CodeLength 6 as docs/verify-phone.md asks). Every field is compared
 * before it is written. What it replaced is recorded in the state file (Twilio keeps no marker for it), so
 * --undo puts back exactly the fields connect set, and only while they still hold what connect set.
 */

export async function connectTwilio(pass: TwilioPass): Promise<void> {
  const base = pass.config.PUBLIC_BASE_URL;
  pass.report.heading(`Number ${pass.options.number}`);
  const number = await findNumber(pass);
  if (number.blockers.length > 0)
    throw new StepError(
      'check the number',
      `${number.phoneNumber}: ${number.blockers.join('; ')}`,
      'in the Twilio Console (Phone Numbers > Manage > Active numbers > the number) set "Configure with" to Webhooks, then run again',
    );
  const service = await findService(pass, number);
  const fallback = pass.options.fallbackUrl ?? twimletUrl(fallbackTwiml(pass.config));
  const want: Fields = {
    voiceUrl: `${base}/twilio/voice`,
    voiceMethod: 'POST',
    statusCallback: `${base}/twilio/voice/status`,
    statusCallbackMethod: 'POST',
    voiceFallbackUrl: fallback,
    voiceFallbackMethod: 'GET',
    ...(service?.overrides ? {} : { smsUrl: `${base}/twilio/sms`, smsMethod: 'POST' }),
  };
  await applyFields(pass, {
    step: `update number ${number.phoneNumber}`,
    what: `number ${number.phoneNumber}`,
    current: number.fields,
    want,
    record: () => {
      const entry = pass.state.numbers[number.sid] ?? {
        phoneNumber: number.phoneNumber,
        before: {},
        set: {},
      };
      pass.state.numbers[number.sid] = entry;
      return entry;
    },
    update: (params) => pass.client.incomingPhoneNumbers(number.sid).update(params),
  });
  // Printed either way: it is what a TwiML Bin given as --fallback-url should hold.
  pass.report.info(
    pass.options.fallbackUrl
      ? `the voice fallback is ${pass.options.fallbackUrl}; callerpop's route (ROUTE_TO) as TwiML: ${fallbackTwiml(pass.config)}`
      : `the voice fallback is Twilio's echo twimlet (a Twilio Labs service) returning: ${fallbackTwiml(pass.config)}`,
  );

  if (service?.overrides) {
    pass.report.heading(`Messaging Service ${service.name} (${service.sid})`);
    pass.report.warn(
      `${number.phoneNumber} belongs to this service, whose inbound request URL overrides the number's own (use_inbound_webhook_on_number is off): texts are pointed there instead${
        service.otherNumbers > 0
          ? `, so texts to its ${service.otherNumbers} other number(s) reach callerpop too`
          : ''
      }`,
    );
    await applyFields(pass, {
      step: `update Messaging Service ${service.sid}`,
      what: `service ${service.name}`,
      current: service.fields,
      want: { inboundRequestUrl: `${base}/twilio/sms`, inboundMethod: 'POST' },
      record: () => {
        const entry = pass.state.services[service.sid] ?? { before: {}, set: {} };
        pass.state.services[service.sid] = entry;
        return entry;
      },
      update: (params) => pass.client.messaging.v1.services(service.sid).update(params),
    });
  } else if (service) {
    pass.report.keep(
      `Messaging Service ${service.name}: defers to the number's own SMS URL (use_inbound_webhook_on_number)`,
    );
  }

  if (pass.options.verifyPhone) await ensureVerifyService(pass);
}

async function applyFields(
  pass: TwilioPass,
  input: {
    step: string;
    what: string;
    current: Fields;
    want: Fields;
    record: () => { before: Fields; set: Fields };
    update: (params: Record<string, string>) => Promise<unknown>;
  },
): Promise<void> {
  const changed = Object.entries(input.want).filter(([field, value]) => input.current[field] !== value);
  for (const [field, value] of Object.entries(input.want))
    if (input.current[field] === value) pass.report.keep(`${input.what} ${field}: ${short(value)}`);
  if (changed.length === 0) return;
  if (!pass.dryRun) {
    const entry = input.record();
    for (const [field] of changed)
      if (!(field in entry.before)) entry.before[field] = input.current[field] ?? null;
    for (const [field, value] of changed) entry.set[field] = value;
    pass.saveState();
    await twilioStep(input.step, () =>
      input.update(Object.fromEntries(changed.map(([f, v]) => [f, v ?? '']))),
    );
  }
  for (const [field, value] of changed)
    pass.report.change(
      '~',
      `${input.what} ${field}: ${short(input.current[field] ?? '(none)')} → ${short(value)}`,
    );
}

export function short(value: string | null | undefined): string {
  if (!value) return '(none)';
  return value.length > 90 ? `${value.slice(0, 87)}…` : value;
}

async function ensureVerifyService(pass: TwilioPass): Promise<void> {
  pass.report.heading('Verify service (sign-up phone verification)');
  const known = pass.config.TWILIO_VERIFY_SERVICE_SID ?? pass.state.verifyServiceCreated;
  if (known) {
    const found = await pass.client.verify.v2
      .services(known)
      .fetch()
      .catch((error: unknown) => {
        if ((error as { status?: unknown }).status === 404) return undefined;
        throw twilioFailure(`read Verify service ${known}`, error);
      });
    if (found) {
      pass.report.keep(`Verify service "${found.friendlyName}" (${found.sid})`);
      if (pass.config.TWILIO_VERIFY_SERVICE_SID !== found.sid)
        pass.report.warn(`set TWILIO_VERIFY_SERVICE_SID=${found.sid}`);
      return;
    }
    if (pass.config.TWILIO_VERIFY_SERVICE_SID)
      throw new StepError(
        'read the Verify service',
        `TWILIO_VERIFY_SERVICE_SID (${known}) names no Verify service of account ${pass.config.TWILIO_ACCOUNT_SID}`,
        'remove TWILIO_VERIFY_SERVICE_SID to let connect create one, or set it to an existing VA… SID',
      );
  }
  const name = pass.options.verifyName;
  if (pass.dryRun) {
    pass.report.change('+', `create Verify service "${name}" (code length 6)`);
    return;
  }
  const created = await twilioStep('create the Verify service', () =>
    pass.client.verify.v2.services.create({ friendlyName: name, codeLength: 6 }),
  );
  pass.state.verifyServiceCreated = created.sid;
  pass.saveState();
  pass.report.change('+', `create Verify service "${name}" (${created.sid})`);
  pass.report.warn(`set TWILIO_VERIFY_SERVICE_SID=${created.sid} in callerpop's configuration`);
}
