import type { Management } from 'auth0';
import { type Auth0Pass, all, read, write } from './auth0-context.js';
import { StepError } from './step-error.js';

/**
 * Two tenant-wide settings, changed only when asked:
 *
 * The phone provider (--phone upe). Auth0's steps (main/docs/customize/phone-messages/configure-phone-
 * messaging-providers/configure-a-custom-phone-provider.mdx, "Management API"): create an Action for
 * `custom-phone-provider`, deploy it, "Set the phone provider to `custom`" (OAS create_phone_provider:
 * `{ name: "custom", configuration: { delivery_methods }, credentials: {} }`). The tenant has one provider
 * ("You can configure one phone provider for all SMS and voice communications per tenant",
 * configure-phone-messaging-providers.mdx), and one custom-phone-provider Action at most ("Auth0 has a maximum
 * limit of one Action for Actions associated with the following triggers: custom-phone-provider", the
 * Terraform page). Credentials are never returned (OAS PhoneProviderSchemaMasked), so a Twilio provider
 * this replaces cannot be put back whole.
 *
 * disable_management_api_sms_obfuscation (OAS TenantSettingsFlags: "If true, SMS phone numbers will not be
 * obfuscated in Management API GET calls"). Whether a PATCH of `flags` merges or replaces them is not
 * stated; Auth0's own examples PATCH one flag (dynamic-client-registration.mdx), so one flag is sent and the
 * answer checked: if other flags were lost, they are written back.
 */

export const CUSTOM_PROVIDER = {
  name: 'custom' as const,
  configuration: { delivery_methods: ['text', 'voice'] as ('text' | 'voice')[] },
};

export function describeProvider(p: Management.PhoneProviderSchemaMasked | undefined): string {
  if (!p) return 'none (Auth0’s own delivery)';
  const c = (p.configuration ?? {}) as {
    sid?: string;
    default_from?: string;
    mssid?: string;
    delivery_methods?: string[];
  };
  const details = [
    c.sid && `account ${c.sid}`,
    c.default_from && `from ${c.default_from}`,
    c.mssid && `service ${c.mssid}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${p.name}${details ? ` (${details})` : ''}${p.disabled ? ', disabled' : ''}`;
}

export async function currentProvider(
  pass: Auth0Pass,
): Promise<Management.PhoneProviderSchemaMasked | undefined> {
  const { providers = [] } = await read('read the phone provider', ['read:phone_providers'], () =>
    pass.tenant.providers.list(),
  );
  return providers[0];
}

export async function ensurePhoneProvider(pass: Auth0Pass, ourAction: string): Promise<void> {
  const others = await read('find custom-phone-provider Actions', ['read:actions'], async () =>
    all(await pass.tenant.actions.list({ triggerId: 'custom-phone-provider' })),
  );
  const theirs = others.filter((a) => a.name !== ourAction);
  if (theirs.length > 0)
    throw new StepError(
      'switch the phone provider',
      `the tenant already has a custom-phone-provider Action (${theirs.map((a) => `"${a.name}" ${a.id}`).join(', ')}), and Auth0 allows one`,
      'remove it (Branding > Phone Provider > Reset, or DELETE /api/v2/actions/actions/{id}), or keep it and run without --phone upe',
    );
  const current = await currentProvider(pass);
  const methods =
    (current?.configuration as { delivery_methods?: string[] } | undefined)?.delivery_methods ?? [];
  if (
    current?.name === 'custom' &&
    !current.disabled &&
    methods.includes('text') &&
    methods.includes('voice')
  ) {
    pass.report.keep(`phone provider: custom (${ourAction}), text and voice`);
    return;
  }
  const replaces = describeProvider(current);
  const text = `phone provider → custom (${ourAction}), text and voice; replaces ${replaces}${
    current?.name === 'twilio'
      ? ' (its Twilio auth token is not returned by Auth0: --undo cannot put it back)'
      : ''
  }`;
  await write(
    pass,
    {
      name: 'switch the phone provider',
      mark: '~',
      text,
      scopes: current ? ['update:phone_providers'] : ['create:phone_providers'],
    },
    async () => {
      if (!pass.state.phoneProviderBefore) {
        pass.state.phoneProviderBefore = {
          provider: current
            ? { name: current.name, configuration: current.configuration, disabled: current.disabled }
            : null,
        };
        pass.saveState();
      }
      if (!current?.id)
        return pass.tenant.providers.create({ ...CUSTOM_PROVIDER, disabled: false, credentials: {} });
      return pass.tenant.providers.update(current.id, {
        ...CUSTOM_PROVIDER,
        disabled: false,
        credentials: {},
      });
    },
  );
}

const FLAG = 'disable_management_api_sms_obfuscation';

export async function readFlags(pass: Auth0Pass): Promise<Record<string, unknown>> {
  const settings = await read('read the tenant settings', ['read:tenant_settings'], () =>
    pass.tenant.settings.get({ fields: 'flags', include_fields: true }),
  );
  return { ...(settings.flags ?? {}) };
}

/** Reports the flag; turns it on only with --disable-sms-obfuscation. */
export async function ensureSmsFlag(pass: Auth0Pass): Promise<void> {
  const flags = await readFlags(pass);
  if (flags[FLAG] === true) {
    pass.report.keep(`${FLAG}: on (the backfill can read MFA phone numbers)`);
    return;
  }
  if (!pass.options.disableSmsObfuscation) {
    pass.report.warn(
      `${FLAG}: ${flags[FLAG] === false ? 'off' : 'not set'}. The Management API masks MFA phone numbers, so \`npm run backfill -- --mfa\` cannot index them. Run with --disable-sms-obfuscation to turn it on (every Management API client of the tenant then sees whole numbers)`,
    );
    return;
  }
  await setFlag(pass, flags, true, `${FLAG} → on (MFA phone numbers unmasked for the Management API)`);
}

export async function setFlag(
  pass: Auth0Pass,
  before: Record<string, unknown>,
  value: boolean,
  text: string,
) {
  await write(
    pass,
    { name: `set ${FLAG}`, mark: '~', text, scopes: ['update:tenant_settings'] },
    async () => {
      if (value && !pass.state.smsFlagBefore) {
        pass.state.smsFlagBefore = {
          value: typeof before[FLAG] === 'boolean' ? (before[FLAG] as boolean) : null,
        };
        pass.saveState();
      }
      const answer = await pass.tenant.settings.update({ flags: { [FLAG]: value } });
      const after = (answer.flags ?? {}) as Record<string, unknown>;
      const lost = Object.entries(before).filter(([name, v]) => name !== FLAG && after[name] !== v);
      if (lost.length > 0) {
        // The PATCH replaced the flags instead of merging them: put the others back as they were.
        await pass.tenant.settings.update({
          flags: { ...Object.fromEntries(lost), [FLAG]: value } as Management.TenantSettingsFlags,
        });
        pass.report.warn(
          `Auth0 replaced the tenant flags instead of merging: ${lost.map(([n]) => n).join(', ')} written back`,
        );
      }
      return answer;
    },
  );
}
