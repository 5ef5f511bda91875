/**
 * Turns whatever Twilio or an agent sends as a caller into E.164, or into the reason it is not a
 * phone number. Runs unchanged on Node and on Workers: no `node:*`, no `process.env`.
 * The policy (and why) lives in docs/normalization.md; keep the two in step.
 *
 * libphonenumber-js's `max` metadata comes from `#phone-metadata` (package.json "imports"): bundled with
 * the code on Node, loaded by the Worker entry before its first request on Workers (docs/normalization.md).
 */

import {
  type CountryCode,
  isSupportedCountry,
  type MetadataJson,
  type PhoneNumber,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/core/es6';
import { phoneMetadata } from '#phone-metadata';

export type NotAPhoneReason =
  | 'empty'
  | 'withheld'
  | 'client_identity'
  | 'sip_uri'
  | 'alphanumeric'
  | 'short_code'
  | 'invalid'
  | 'too_long'
  /** Workers only, and only if the entry did not wait for the metadata: the number was not checked. */
  | 'unavailable';

export type NormalizedPhone =
  | {
      ok: true;
      e164: string;
      country: string | undefined;
      type: string | undefined;
      extensionDropped: boolean;
    }
  | { ok: false; reason: NotAPhoneReason; message: string };

export interface NormalizeOptions {
  /** ISO 3166-1 alpha-2 region used to read national numbers; default 'US'. */
  region?: string;
}

/** Checked on the raw input before any other work, so hostile input stays cheap. */
const MAX_INPUT_LENGTH = 64;
const DEFAULT_REGION: CountryCode = 'US';
/** Common mistakes for ISO codes that would otherwise make every national number unreadable. */
const REGION_ALIASES: ReadonlyMap<string, CountryCode> = new Map([['UK', 'GB']]);

// Characters that are invisible on screen but survive copy-paste from CRMs, spreadsheets and RTL
// interfaces: soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and bidi
// controls, word joiner and invisible operators, byte-order mark.
const INVISIBLE_MARKS = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;
// Punctuation people put between digits; removed only to classify the input, never to parse it.
const VISUAL_SEPARATORS = /[\s\-.()/]/g;
const DIGITS_WITH_OPTIONAL_PLUS = /^\+?(\d+)$/;
const E164_SHAPED = /^\+\d+$/;
const SHORT_CODE = /^\d{3,8}$/;
const LEADING_00 = /^00\s*/;
// Mexico dropped the mobile "1" after +52 in 2019, but WhatsApp and old address books still send it.
const MEXICO_LEGACY_MOBILE = /^\+521(\d{10})$/;
const HAS_LETTER = /\p{L}/u;
const E164 = /^\+[1-9]\d{1,14}$/;

/** What carriers and Twilio put in `From` instead of a number when the caller withheld it. */
const WITHHELD_WORDS: ReadonlySet<string> = new Set([
  'anonymous',
  'restricted',
  'unknown',
  'unavailable',
  'private',
  'withheld',
  'blocked',
]);

/**
 * Twilio turns withheld caller IDs into the keypad spelling of the word (2=ABC … 9=WXYZ), which
 * would otherwise look like numbers in Lesotho, China, Russia or Uganda. Source: docs/normalization.md.
 */
const KEYPAD_WITHHELD: ReadonlySet<string> = new Set([
  '266696687', // ANONYMOUS
  '86282452253', // UNAVAILABLE
  '8656696', // UNKNOWN
  '7378742833', // RESTRICTED
  '2562533', // BLOCKED
]);

// Messages never echo the input: they end up in logs and API responses, and the input is personal data.
const MESSAGES: Readonly<Record<NotAPhoneReason, string>> = {
  empty: 'No caller number was given.',
  withheld: 'The caller withheld their number.',
  client_identity: 'The caller is a Twilio Client identity, not a phone number.',
  sip_uri:
    'The caller is a SIP address whose user part is not an E.164 number; SIP usernames are not read as numbers.',
  alphanumeric: 'The sender is an alphanumeric ID (or a vanity number), not a dialable phone number.',
  short_code: 'The sender is a short code, not a personal phone number.',
  invalid: 'Not a valid phone number.',
  too_long: `Longer than ${MAX_INPUT_LENGTH} characters; not a phone number.`,
  unavailable: 'Phone number metadata is not loaded yet, so the number could not be checked; try again.',
};

/** `undefined` region: only international (+…) numbers can be read. */
type Region = CountryCode | undefined;
/** What one call reads numbers with: the region national numbers are in, and the metadata. */
interface Reading {
  region: Region;
  metadata: MetadataJson;
}
type ParseOptions = { defaultCountry: Region; extract: false };

export function normalizePhone(input: unknown, options?: NormalizeOptions): NormalizedPhone {
  const metadata = phoneMetadata();
  // Never a guess without metadata: "unavailable" is not "invalid" (phoneMetadata() has logged it).
  if (metadata === undefined) return reject('unavailable');
  try {
    return normalizeUnchecked(input, options?.region, metadata);
  } catch {
    // Last line of defence: a webhook must get an answer, never a 500, whatever the input.
    return reject('invalid');
  }
}

/** Syntax only (a plus, a non-zero digit, at most 15 digits); validity is normalizePhone's job. */
export function isE164(value: string): boolean {
  return typeof value === 'string' && E164.test(value);
}

const MASK = '•';
const VISIBLE_DIGITS = 4;
const NON_DIGITS = /\D/g;

/** For logs: keeps the last 4 digits only ("+14155550100" → "•••••••0100"); never reveals shorter values. */
export function maskPhone(value: string): string {
  if (typeof value !== 'string' || value.length > MAX_INPUT_LENGTH) return MASK.repeat(VISIBLE_DIGITS);
  const digits = value.replace(NON_DIGITS, '');
  if (digits.length <= VISIBLE_DIGITS) return MASK.repeat(VISIBLE_DIGITS);
  return MASK.repeat(digits.length - VISIBLE_DIGITS) + digits.slice(-VISIBLE_DIGITS);
}

function normalizeUnchecked(input: unknown, regionOption: unknown, metadata: MetadataJson): NormalizedPhone {
  if (input === null || input === undefined) return reject('empty');
  if (typeof input !== 'string') return reject('invalid', 'Expected the number as a string.');
  if (input.length > MAX_INPUT_LENGTH) return reject('too_long');

  // NFKC turns full-width and other compatibility digits and plus signs into ASCII.
  const text = input.normalize('NFKC').replace(INVISIBLE_MARKS, '').trim();
  // NFKC can expand a few characters many-fold; keep the bound honest after it.
  if (text.length > MAX_INPUT_LENGTH) return reject('too_long');
  if (text === '') return reject('empty');

  const lower = text.toLowerCase();
  if (lower.startsWith('client:')) return reject('client_identity');
  const region = resolveRegion(regionOption, metadata);
  const reading: Reading = { region, metadata };
  if (lower.startsWith('sip:')) return readSipUri(text.slice(4), reading);
  if (lower.startsWith('sips:')) return readSipUri(text.slice(5), reading);
  if (lower.startsWith('tel:')) return readTelUri(text.slice(4), reading);
  // Twilio prefixes WhatsApp senders with the channel; the address itself is the E.164 number.
  if (lower.startsWith('whatsapp:')) return readNumber(text.slice(9).trim(), reading, false);
  return readNumber(text, reading, false);
}

/**
 * The region national numbers are read in. An unknown region is not replaced by a guess (a national
 * number read in the wrong country is a wrong match): it becomes `undefined`, "international only".
 */
function resolveRegion(region: unknown, metadata: MetadataJson): Region {
  if (region === undefined) return DEFAULT_REGION;
  if (typeof region !== 'string') return undefined;
  const upper = region.trim().toUpperCase();
  const aliased = REGION_ALIASES.get(upper) ?? upper;
  return isCountry(aliased, metadata) ? aliased : undefined;
}

/** The type guard `libphonenumber-js/max` declares for isSupportedCountry; the core flavour omits it. */
function isCountry(code: string, metadata: MetadataJson): code is CountryCode {
  return isSupportedCountry(code as CountryCode, metadata);
}

/** A number as typed or sent: national, international, with punctuation, trunk prefixes or an extension. */
function readNumber(text: string, reading: Reading, extensionInUri: boolean): NormalizedPhone {
  if (text === '') return reject('empty');
  if (WITHHELD_WORDS.has(text.toLowerCase())) return reject('withheld');
  const compact = text.replace(VISUAL_SEPARATORS, '');
  const digits = DIGITS_WITH_OPTIONAL_PLUS.exec(compact)?.[1];
  if (digits !== undefined && KEYPAD_WITHHELD.has(digits)) return reject('withheld');

  const parsed = parse(text, reading);
  if (parsed?.isValid()) return accept(parsed, extensionInUri);
  if (SHORT_CODE.test(compact)) return reject('short_code');

  const rescued = rescueCommonForms(text, compact, reading.metadata);
  if (rescued !== undefined) return accept(rescued, extensionInUri);

  if (parsed === undefined && HAS_LETTER.test(text)) return reject('alphanumeric');
  return rejectInvalid(parsed, reading.region, compact);
}

/**
 * Forms the library does not read in every region but that have one meaning. Only valid results come
 * back, so a rescue can never accept a number libphonenumber-js considers invalid.
 */
function rescueCommonForms(text: string, compact: string, metadata: MetadataJson): PhoneNumber | undefined {
  const international: Reading = { region: undefined, metadata };
  // "00" is the international prefix in most of the world, and agents type it whatever the
  // deployment's region is. A national number never starts with 00, so nothing valid is reread.
  if (LEADING_00.test(text)) {
    const dialled = parse(text.replace(LEADING_00, '+'), international);
    if (dialled?.isValid()) return dialled;
  }
  const mexican = MEXICO_LEGACY_MOBILE.exec(compact)?.[1];
  if (mexican !== undefined) {
    const current = parse(`+52${mexican}`, international);
    if (current?.isValid()) return current;
  }
  return undefined;
}

/**
 * RFC 3966 `tel:` URI body (also the telephone-subscriber form of a SIP user part): the number,
 * then `;name=value` parameters. Only `ext` and `phone-context` change the result.
 */
function readTelUri(body: string, reading: Reading): NormalizedPhone {
  const [number = '', ...parameters] = body.split(';');
  let context: string | undefined;
  let extension = false;
  for (const parameter of parameters) {
    const eq = parameter.indexOf('=');
    const name = (eq < 0 ? parameter : parameter.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : parameter.slice(eq + 1).trim();
    if (name === 'ext' && value !== '') extension = true;
    if (name === 'phone-context') context = value;
  }
  // A global number (+…) ignores any context; a local one is read inside its numeric context.
  if (number.startsWith('+') || context === undefined) return readNumber(number, reading, extension);
  if (context.startsWith('+'))
    return readNumber(context + number, { region: undefined, metadata: reading.metadata }, extension);
  // A domain context is a private dial plan (often a PBX extension): there is no E.164 to derive.
  return reject('invalid', 'A local tel: number in a domain phone-context has no E.164 form.');
}

/**
 * `sip:user[:password]@host[;params]`. Only an E.164 user part is read (SIP trunks and Twilio SIP
 * Domains send `sip:+14155552671@…`); a username is never guessed to be a number.
 */
function readSipUri(rest: string, reading: Reading): NormalizedPhone {
  const at = rest.indexOf('@');
  if (at < 0) return reject('sip_uri');
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  const user = decodePercent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  if (user === undefined) return reject('sip_uri');

  const host = rest.slice(at + 1).toLowerCase();
  // RFC 3323 anonymous SIP identity: sip:anonymous@anonymous.invalid
  if (WITHHELD_WORDS.has(user.toLowerCase()) || host.startsWith('anonymous.invalid'))
    return reject('withheld');

  const semicolon = user.indexOf(';');
  const number = semicolon < 0 ? user : user.slice(0, semicolon);
  if (!E164_SHAPED.test(number.replace(VISUAL_SEPARATORS, ''))) return reject('sip_uri');
  return readTelUri(user, reading);
}

function decodePercent(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function parse(text: string, { region, metadata }: Reading): PhoneNumber | undefined {
  return parsePhoneNumberFromString(text, parseOptionsFor(region), metadata);
}

function parseOptionsFor(region: Region): ParseOptions {
  // extract: false — the whole input must be the number; "call me at +1 …" is not a caller ID.
  return { defaultCountry: region, extract: false };
}

function accept(phone: PhoneNumber, extensionInUri: boolean): NormalizedPhone {
  return {
    ok: true,
    e164: phone.number,
    country: phone.country,
    type: phone.getType(),
    extensionDropped: extensionInUri || Boolean(phone.ext),
  };
}

function rejectInvalid(parsed: PhoneNumber | undefined, region: Region, compact: string): NormalizedPhone {
  if (region === undefined && !compact.startsWith('+')) {
    return reject('invalid', 'Unknown region: only numbers in international form (+…) can be read.');
  }
  if (parsed === undefined) return reject('invalid');
  return reject(
    'invalid',
    `Not a valid +${parsed.countryCallingCode} number (wrong length or an unassigned range).`,
  );
}

function reject(reason: NotAPhoneReason, message: string = MESSAGES[reason]): NormalizedPhone {
  return { ok: false, reason, message };
}
