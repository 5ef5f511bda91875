/** Display formatting for agents' screens; storage and matching always use E.164. */

import { parsePhoneNumberFromString } from 'libphonenumber-js/core/es6';
import { phoneMetadata } from '#phone-metadata';

const PARSE_OPTIONS = { extract: false } as const;

/** "+14155550100" → "+1 415 555 0100". Anything it cannot read is shown as given rather than hidden. */
export function formatPhoneForHumans(e164: string): string {
  if (typeof e164 !== 'string') return '';
  // Without metadata (a Worker isolate that has not loaded it; logged) the number is shown as stored.
  const metadata = phoneMetadata();
  if (metadata === undefined) return e164;
  try {
    return parsePhoneNumberFromString(e164, PARSE_OPTIONS, metadata)?.formatInternational() ?? e164;
  } catch {
    return e164;
  }
}
