import type { Management } from 'auth0';

/**
 * What one user's authentication methods add to the index: confirmed and pending phone factors
 * (SMS or voice, by the user's preferred delivery), and how many came back masked.
 */

export type MfaSource = 'mfa_sms' | 'mfa_voice';

export interface MfaPhone {
  raw: string;
  source: MfaSource;
  verified: boolean;
}

export interface MfaResult {
  /** undefined: the user no longer exists (404), so nothing is known about its factors. */
  phones: MfaPhone[] | undefined;
  masked: number;
  /** When Auth0 answered: the event time of these links. */
  at: number;
}

/**
 * With the tenant flag `disable_management_api_sms_obfuscation` off, Auth0 returns phone factors with all
 * but the last digits replaced (e.g. "XXXXXXXX4567"). Such a value is not a number and must not be indexed.
 */
export function isMaskedPhone(value: string): boolean {
  // A run of mask characters, not a lone "x" (which some people type before an extension).
  return /[xX*•]{2,}/.test(value);
}

export function phonesFromMethods(methods: readonly Management.UserAuthenticationMethod[]): {
  phones: MfaPhone[];
  masked: number;
} {
  const phones: MfaPhone[] = [];
  let masked = 0;
  for (const method of methods) {
    const type = String(method.type);
    if (type !== 'phone' && type !== 'sms') continue;
    const raw = method.phone_number;
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    if (isMaskedPhone(raw)) {
      masked += 1;
      continue;
    }
    phones.push({
      raw,
      source: method.preferred_authentication_method === 'voice' ? 'mfa_voice' : 'mfa_sms',
      verified: method.confirmed === true,
    });
  }
  return { phones, masked };
}

/** Said once, when the first masked number arrives; the fix itself is in the summary. */
export const MASKED_NUMBERS_WARNING =
  'Warning: Auth0 returns MFA phone numbers masked (SMS obfuscation is on): they are not indexed. The fix is in the summary.';

export const MASKED_NUMBERS_FIX = [
  'Auth0 returned MFA phone numbers masked, so they were not indexed.',
  'Fix: turn off SMS obfuscation for the Management API on the tenant, then run the backfill again:',
  '  PATCH https://{AUTH0_DOMAIN}/api/v2/tenants/settings  {"flags":{"disable_management_api_sms_obfuscation":true}}',
  '  (scope update:tenant_settings; e.g. `auth0 api patch tenants/settings --data \'{"flags":{"disable_management_api_sms_obfuscation":true}}\'`)',
].join('\n');
