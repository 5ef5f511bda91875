/** Display formatting for agents' screens; storage and matching always use E.164. */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max/es6';

const PARSE_OPTIONS = { extract: false } as const;

/** "+14155550100" → "+1 415 555 0100". Anything it cannot read is shown as given rather than hidden. */
export function formatPhoneForHumans(e164: string): string {
  if (typeof e164 !== 'string') return '';
  try {
    return parsePhoneNumberFromString(e164, PARSE_OPTIONS)?.formatInternational() ?? e164;
  } catch {
    return e164;
  }
}
