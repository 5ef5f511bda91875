import { ACTION_SCRIPTS, type TriggerId, wantedScripts } from './action-scripts.js';
import { checkTriggers, ensureAction } from './auth0-actions.js';
import { ensureAgentApp } from './auth0-agent-app.js';
import { ensureBindings } from './auth0-bindings.js';
import type { Auth0Pass } from './auth0-context.js';
import { ensureLogStream } from './auth0-log-stream.js';
import { ensurePhoneProvider, ensureSmsFlag } from './auth0-tenant-settings.js';

/**
 * `connect auth0`, one pass (auth0-context.ts): the agents' application first (agent-roles needs its
 * client id as a secret), then every Action (created or updated, built, deployed), then the bindings (a
 * binding needs a deployed Action), the log stream, the phone provider (Auth0 refuses a `custom` provider
 * before its Action is deployed) and the SMS obfuscation flag.
 */
export async function connectAuth0(pass: Auth0Pass): Promise<void> {
  const scripts = wantedScripts(pass.options);
  pass.report.heading('Triggers');
  const triggers = await checkTriggers(pass, scripts);
  pass.report.keep(
    [...new Set(scripts.map((s) => `${s.trigger.id} ${s.trigger.version}`))].join(', ') +
      ': offered, with node22',
  );

  pass.report.heading('Agents’ sign-in application');
  await ensureAgentApp(pass);

  pass.report.heading('Actions');
  for (const spec of scripts) await ensureAction(pass, spec);

  pass.report.heading('Bindings (order of execution)');
  const byTrigger = new Map<TriggerId, string[]>();
  for (const spec of scripts)
    byTrigger.set(spec.trigger.id, [...(byTrigger.get(spec.trigger.id) ?? []), spec.name]);
  for (const [trigger, names] of byTrigger) await ensureBindings(pass, trigger, triggers.get(trigger), names);
  // Only one phone script may deliver a tenant's codes: choosing one unbinds callerpop's other.
  const classic = ACTION_SCRIPTS.find((s) => s.script === 'send-phone-message')?.name ?? '';
  if (pass.options.phone === 'upe')
    await ensureBindings(pass, 'send-phone-message', undefined, [], [classic]);

  pass.report.heading('Log stream');
  await ensureLogStream(pass);

  pass.report.heading('Phone provider');
  if (pass.options.phone === 'upe') {
    const upe = ACTION_SCRIPTS.find((s) => s.script === 'custom-phone-provider')?.name ?? '';
    await ensurePhoneProvider(pass, upe);
  } else {
    pass.report.keep(`left as it is (--phone ${pass.options.phone})`);
    if (pass.options.phone === 'classic')
      pass.report.info(
        'send-phone-message runs only while Security > Multi-factor Auth > Phone Message uses the Custom provider: connect does not switch that',
      );
  }

  pass.report.heading('Tenant flag');
  await ensureSmsFlag(pass);
}
