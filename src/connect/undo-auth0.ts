import type { Management } from 'auth0';
import { ACTION_SCRIPTS, type TriggerId } from './action-scripts.js';
import { AGENT_APP_NAME, findAgentApp } from './auth0-agent-app.js';
import { unbindCallerpop } from './auth0-bindings.js';
import { type Auth0Pass, all, read, write } from './auth0-context.js';
import { findStream, STREAM_NAME } from './auth0-log-stream.js';
import {
  CUSTOM_PROVIDER,
  currentProvider,
  describeProvider,
  readFlags,
  setFlag,
} from './auth0-tenant-settings.js';

/**
 * `connect auth0 --undo`: takes out what connect added, found by its markers (the `callerpop-…` Action
 * names, the `callerpop` log stream, the application marked `client_metadata.callerpop`), and puts back what
 * the state file says it replaced (the phone provider, the SMS flag, what it added to an application it did
 * not create). Order: the phone provider before the Actions (it runs one), bindings before the Actions they
 * name ("An action must be unbound from all triggers before it can be deleted", OAS delete_action).
 * What it cannot restore is said, and listed again at the end.
 */
export async function undoAuth0(pass: Auth0Pass): Promise<void> {
  pass.report.heading('Phone provider');
  await restorePhoneProvider(pass);

  pass.report.heading('Bindings');
  const triggerIds = [...new Set(ACTION_SCRIPTS.map((s) => s.trigger.id))] as TriggerId[];
  const { triggers = [] } = await read('read the triggers', ['read:actions'], () =>
    pass.tenant.triggers.list(),
  );
  for (const trigger of triggerIds)
    await unbindCallerpop(
      pass,
      trigger,
      triggers.find((t) => t.id === trigger),
    );

  pass.report.heading('Actions');
  for (const spec of ACTION_SCRIPTS) {
    const found = await read(`find Action ${spec.name}`, ['read:actions'], async () =>
      all(await pass.tenant.actions.list({ actionName: spec.name })),
    );
    for (const action of found.filter((a) => a.name === spec.name && a.id)) {
      const id = action.id ?? '';
      await write(
        pass,
        {
          name: `delete Action ${spec.name}`,
          mark: '-',
          text: `delete ${spec.name}`,
          scopes: ['delete:actions'],
        },
        () => pass.tenant.actions.delete(id),
      );
      delete pass.state.actionSecrets[id];
    }
  }

  pass.report.heading('Log stream');
  const stream = await findStream(pass);
  if (stream?.id && stream.name === STREAM_NAME) {
    const id = stream.id;
    await write(
      pass,
      {
        name: 'delete the log stream',
        mark: '-',
        text: `delete log stream "${STREAM_NAME}"`,
        scopes: ['delete:log_streams'],
      },
      () => pass.tenant.logStreams.delete(id),
    );
  } else pass.report.keep(`no log stream named "${STREAM_NAME}"`);

  pass.report.heading('Agents’ sign-in application');
  await removeAgentApp(pass);

  pass.report.heading('Tenant flag');
  const recorded = pass.state.smsFlagBefore;
  if (recorded) {
    const flags = await readFlags(pass);
    const value = recorded.value ?? false;
    if (flags.disable_management_api_sms_obfuscation === value)
      pass.report.keep('disable_management_api_sms_obfuscation: as before connect');
    else
      await setFlag(
        pass,
        flags,
        value,
        `disable_management_api_sms_obfuscation → ${value ? 'on' : 'off'} (as before connect)`,
      );
  } else pass.report.keep('disable_management_api_sms_obfuscation: connect did not change it');
}

async function restorePhoneProvider(pass: Auth0Pass): Promise<void> {
  const recorded = pass.state.phoneProviderBefore;
  const ours = ACTION_SCRIPTS.find((s) => s.script === 'custom-phone-provider')?.name ?? '';
  const ourAction = await read('find custom-phone-provider Actions', ['read:actions'], async () =>
    all(await pass.tenant.actions.list({ actionName: ours })),
  );
  if (!recorded && ourAction.length === 0) {
    pass.report.keep('connect did not set the phone provider');
    return;
  }
  const current = await currentProvider(pass);
  if (current?.name !== CUSTOM_PROVIDER.name || !current.id) {
    pass.report.keep(`phone provider: ${describeProvider(current)} (not callerpop’s: left as it is)`);
    return;
  }
  const id = current.id;
  const before = recorded?.provider;
  if (before === null || before === undefined || before.name === CUSTOM_PROVIDER.name) {
    await write(
      pass,
      {
        name: 'remove the phone provider',
        mark: '-',
        text: 'remove the custom phone provider',
        scopes: ['delete:phone_providers'],
      },
      () => pass.tenant.providers.delete(id),
    );
    if (before === undefined)
      pass.report.cannotRestore(
        'the phone provider before connect (not recorded on this machine): configure it under Branding > Phone Provider if the tenant had one',
      );
    else if (before?.name === CUSTOM_PROVIDER.name)
      pass.report.cannotRestore('the custom phone provider Action the tenant had before connect');
    return;
  }
  // A Twilio provider: its configuration comes back, its auth token cannot (never returned by Auth0), unless
  // it was callerpop's own Twilio account.
  const sameAccount =
    (before.configuration as { sid?: string } | undefined)?.sid === pass.config.TWILIO_ACCOUNT_SID;
  const text = `phone provider → ${describeProvider({ ...before, name: 'twilio', configuration: before.configuration as never })} (as before connect)`;
  try {
    await write(
      pass,
      { name: 'restore the phone provider', mark: '~', text, scopes: ['update:phone_providers'] },
      () =>
        pass.tenant.providers.update(id, {
          name: 'twilio',
          configuration: before.configuration as never,
          disabled: before.disabled ?? false,
          ...(sameAccount ? { credentials: { auth_token: pass.config.TWILIO_AUTH_TOKEN } } : {}),
        }),
    );
    if (!sameAccount)
      pass.report.cannotRestore(
        'the Twilio phone provider’s auth token (Auth0 never returns it): enter it again under Branding > Phone Provider',
      );
  } catch (error) {
    // Auth0 refuses a Twilio provider without its token: leave none rather than one running a deleted Action.
    const cause = (error as { detail?: string }).detail ?? String(error);
    await write(
      pass,
      {
        name: 'remove the phone provider',
        mark: '-',
        text: 'remove the custom phone provider',
        scopes: ['delete:phone_providers'],
      },
      () => pass.tenant.providers.delete(id),
    );
    pass.report.cannotRestore(
      `the Twilio phone provider (${cause}): configure it again under Branding > Phone Provider`,
    );
  }
}

async function removeAgentApp(pass: Auth0Pass): Promise<void> {
  const found = await findAgentApp(pass);
  const client = found?.client;
  if (found?.marked && client?.client_id) {
    const id = client.client_id;
    await write(
      pass,
      {
        name: 'delete the agents’ application',
        mark: '-',
        text: `delete application "${client.name ?? AGENT_APP_NAME}" (${id}): agents can no longer sign in with it`,
        scopes: ['delete:clients'],
      },
      () => pass.tenant.clients.delete(id),
    );
    return;
  }
  const added = pass.state.agentAppAdded;
  if (!client?.client_id || added?.clientId !== client.client_id) {
    pass.report.keep('no application made or changed by connect');
    return;
  }
  const id = client.client_id;
  const without = (have: string[] | undefined, remove: string[]) =>
    (have ?? []).filter((v) => !remove.includes(v));
  await write(
    pass,
    {
      name: 'restore the agents’ application',
      mark: '~',
      text: `"${client.name}": remove what connect added`,
      scopes: ['update:clients'],
    },
    () =>
      pass.tenant.clients.update(id, {
        callbacks: without(client.callbacks, added.callbacks),
        allowed_logout_urls: without(client.allowed_logout_urls, added.allowed_logout_urls),
        grant_types: without(client.grant_types, added.grant_types),
        ...(added.previous as Management.UpdateClientRequestContent),
      }),
  );
  pass.state.agentAppAdded = undefined;
}
