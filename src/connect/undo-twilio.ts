import { short } from './connect-twilio.js';
import { twilioFailure } from './step-error.js';
import { type Fields, findNumber, type TwilioPass, twilioStep } from './twilio-number.js';

/**
 * `connect twilio --undo`: puts back each field connect recorded changing (state file), but only where it
 * still holds what connect set: a field changed since (in the Console, by another tool) is left and said.
 * A field that was empty before is cleared with an empty value; Twilio documents no other way to unset a
 * URL, and its SDK sends `''` as is. Without a record (another machine ran connect) nothing can be put back:
 * callerpop's URLs stay, and so does the fallback, which keeps routing callers if callerpop goes away.
 * The Verify service is deleted only if connect created it.
 */
export async function undoTwilio(pass: TwilioPass): Promise<void> {
  pass.report.heading(`Number ${pass.options.number}`);
  const number = await findNumber(pass);
  const recorded = pass.state.numbers[number.sid];
  if (recorded) {
    await restore(pass, `number ${number.phoneNumber}`, number.fields, recorded, (params) =>
      pass.client.incomingPhoneNumbers(number.sid).update(params),
    );
    if (!pass.dryRun) delete pass.state.numbers[number.sid];
  } else {
    pass.report.cannotRestore(
      `${number.phoneNumber}'s URLs before connect (no record on this machine): set them in the Twilio Console; the fallback keeps routing callers meanwhile`,
    );
  }

  for (const [sid, entry] of Object.entries(pass.state.services)) {
    pass.report.heading(`Messaging Service ${sid}`);
    const service = await twilioStep(`read Messaging Service ${sid}`, () =>
      pass.client.messaging.v1.services(sid).fetch(),
    );
    const current: Fields = {
      inboundRequestUrl: service.inboundRequestUrl ?? null,
      inboundMethod: service.inboundMethod ?? null,
    };
    await restore(pass, `service ${service.friendlyName}`, current, entry, (params) =>
      pass.client.messaging.v1.services(sid).update(params),
    );
    if (!pass.dryRun) delete pass.state.services[sid];
  }

  const created = pass.state.verifyServiceCreated;
  if (created) {
    pass.report.heading('Verify service');
    if (!pass.dryRun) {
      await pass.client.verify.v2
        .services(created)
        .remove()
        .catch((error: unknown) => {
          // Already gone: what --undo wanted.
          if ((error as { status?: unknown }).status !== 404)
            throw twilioFailure(`delete Verify service ${created}`, error);
        });
      pass.state.verifyServiceCreated = undefined;
    }
    pass.report.change(
      '-',
      `delete Verify service ${created} (remove TWILIO_VERIFY_SERVICE_SID from callerpop's configuration)`,
    );
  }
  pass.saveState();
}

async function restore(
  pass: TwilioPass,
  what: string,
  current: Fields,
  recorded: { before: Fields; set: Fields },
  update: (params: Record<string, string>) => Promise<unknown>,
): Promise<void> {
  const back: [string, string | null][] = [];
  for (const [field, set] of Object.entries(recorded.set)) {
    if (current[field] !== set) {
      pass.report.warn(
        `${what} ${field}: changed since connect set it (${short(current[field])}): left as it is`,
      );
      continue;
    }
    back.push([field, recorded.before[field] ?? null]);
  }
  if (back.length === 0) return;
  if (!pass.dryRun)
    await twilioStep(`restore ${what}`, () => update(Object.fromEntries(back.map(([f, v]) => [f, v ?? '']))));
  for (const [field, value] of back)
    pass.report.change('~', `${what} ${field} → ${short(value)} (as before connect)`);
}
