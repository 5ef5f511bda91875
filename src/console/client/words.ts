/**
 * The words agents read on a card: where a number comes from, where a call is, what the carrier's
 * attestation and the caller's possession check mean, and times.
 */

export type Tone = 'good' | 'warn' | 'bad' | 'neutral';
export interface Words {
  tone: Tone;
  text: string;
}

export const SOURCE_WORDS: Record<string, string> = {
  mfa_sms: 'MFA by SMS',
  mfa_voice: 'MFA by voice',
  passwordless: 'Passwordless SMS',
  profile: 'Profile phone',
};

export const STATUS_WORDS: Record<string, string> = {
  ringing: 'Ringing',
  queued: 'Queued',
  'in-progress': 'In progress',
  completed: 'Completed',
  busy: 'Busy',
  'no-answer': 'No answer',
  failed: 'Failed',
  canceled: 'Canceled',
  received: 'Received',
  verifying: 'Verifying caller',
};

/** STIR/SHAKEN `StirVerstat` as Twilio sends it (TN-Validation-Passed-A …, No-TN-Validation). */
export function stirWords(verstat: string | null): Words {
  if (!verstat) return { tone: 'neutral', text: 'Caller ID not attested (no STIR/SHAKEN data on this call)' };
  if (/Passed-A$/.test(verstat))
    return { tone: 'good', text: 'Caller ID verified by the carrier (attestation A)' };
  if (/Passed-B$/.test(verstat))
    return { tone: 'warn', text: 'Carrier knows the caller, not that they own this number (B)' };
  if (/Passed-C$/.test(verstat))
    return { tone: 'warn', text: 'Carrier only knows where the call entered its network (C)' };
  if (/Failed/.test(verstat))
    return { tone: 'bad', text: 'Caller ID failed carrier verification: may be spoofed' };
  if (/^No-TN-Validation/.test(verstat))
    return { tone: 'neutral', text: 'Carrier did not verify the caller ID' };
  return { tone: 'neutral', text: `Caller ID attestation: ${verstat}` };
}

const SKIPPED_WORDS: Record<string, string> = {
  country_not_allowed: 'the country is not allowed for codes',
  number_type_not_allowed: 'this kind of number does not take texts',
  rate_limited_number: 'too many codes went to this number this hour',
  no_country: 'the number belongs to no country (satellite or international network)',
  rate_limited_range: 'too many numbers next to this one were sent codes this hour',
  country_budget_spent: 'the hourly budget of codes to this country is spent',
  hourly_budget_spent: 'the hourly budget of codes is spent',
};

export function possessionWords(outcome: string, skipped: string | undefined): Words {
  if (skipped)
    return {
      tone: 'neutral',
      text: `Possession not checked: no code was texted (${SKIPPED_WORDS[skipped] ?? skipped})`,
    };
  if (outcome === 'verified')
    return { tone: 'good', text: 'Possession verified: the caller keyed in the code texted to this number' };
  if (outcome === 'failed')
    return { tone: 'bad', text: 'Possession check failed: the caller did not key in the texted code' };
  if (outcome === 'pending')
    return { tone: 'warn', text: 'Possession check in progress: code texted, waiting for the caller' };
  return { tone: 'neutral', text: 'Possession not checked (no code was sent)' };
}

/** Display only (storage is E.164): NANP as +1 415 555 0100; other countries keep E.164, which is exact. */
export function formatE164(n: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(n);
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : n;
}

export function formatAgo(ms: number | null): string {
  if (!ms) return 'never';
  const days = Math.floor((Date.now() - ms) / 86_400_000);
  const d = new Date(ms);
  if (new Date().toDateString() === d.toDateString())
    return `today, ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  if (days <= 1) return 'yesterday';
  if (days < 14) return `${days} days ago`;
  return d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
}
