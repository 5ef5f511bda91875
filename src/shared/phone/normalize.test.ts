import { describe, expect, it } from 'vitest';
import { formatPhoneForHumans } from './format.js';
import {
  isE164,
  maskPhone,
  type NormalizedPhone,
  type NotAPhoneReason,
  normalizePhone,
} from './normalize.js';

interface Accepted {
  input: string;
  region?: string;
  e164: string;
  country?: string;
  extensionDropped?: boolean;
}

interface Rejected {
  input: unknown;
  region?: string;
  reason: NotAPhoneReason;
}

/** Test titles stay readable when the input is a megabyte of junk. */
function show(input: unknown): string {
  let text: string;
  try {
    text = typeof input === 'string' ? JSON.stringify(input) : String(input);
  } catch {
    text = `unprintable ${typeof input}`;
  }
  return text.length > 40 ? `${text.slice(0, 37)}… (${text.length} chars)` : text;
}

function normalize(input: unknown, region: string | undefined): NormalizedPhone {
  return region === undefined ? normalizePhone(input) : normalizePhone(input, { region });
}

function expectAccepted(row: Accepted): void {
  const result = normalize(row.input, row.region);
  expect(result).toMatchObject({ ok: true, e164: row.e164, extensionDropped: row.extensionDropped ?? false });
  if (row.country !== undefined) expect(result).toMatchObject({ country: row.country });
}

function expectRejected(row: Rejected): void {
  const result = normalize(row.input, row.region);
  expect(result).toMatchObject({ ok: false, reason: row.reason });
  if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
}

// Every number here was checked against libphonenumber-js/max 1.13.16: valid, in the country given.
// Fictional ranges are used where a regulator reserves them (Ofcom 020 7946 0xxx / 0117 496 0xxx /
// 0161 496 0xxx, NANP 555-01xx, ACMA 02 5550 xxxx / 03 7010 xxxx / 0491 570 xxx, ARCEP 01 99 00 xx xx).
const NATIONAL_AND_INTERNATIONAL: Accepted[] = [
  // United States (default region)
  { input: '+1 415 555 2671', e164: '+14155552671', country: 'US' },
  { input: '(415) 555-2671', e164: '+14155552671', country: 'US' },
  { input: '415.555.2671', e164: '+14155552671', country: 'US' },
  { input: '1 (415) 555-2671', e164: '+14155552671', country: 'US' },
  { input: '14155552671', e164: '+14155552671', country: 'US' },
  { input: '+14155550100', e164: '+14155550100', country: 'US' },
  { input: '+1 212 555 0123', e164: '+12125550123', country: 'US' },
  { input: '(212) 555-0199', region: 'US', e164: '+12125550199', country: 'US' },
  { input: '+1 202 555 0143', e164: '+12025550143', country: 'US' },
  // Canada (shares +1; the area code decides the country)
  { input: '+1 416 555 0123', e164: '+14165550123', country: 'CA' },
  { input: '(604) 555-0188', region: 'CA', e164: '+16045550188', country: 'CA' },
  { input: '613-555-0142', region: 'CA', e164: '+16135550142', country: 'CA' },
  { input: '514 555 0177', region: 'US', e164: '+15145550177', country: 'CA' },
  // United Kingdom
  { input: '020 7946 0958', region: 'GB', e164: '+442079460958', country: 'GB' },
  { input: '+44 20 7946 0000', e164: '+442079460000', country: 'GB' },
  { input: '0117 496 0123', region: 'GB', e164: '+441174960123', country: 'GB' },
  { input: '0161 496 0000', region: 'GB', e164: '+441614960000', country: 'GB' },
  { input: '07400 123456', region: 'GB', e164: '+447400123456', country: 'GB' },
  { input: '+44 7400 123456', e164: '+447400123456', country: 'GB' },
  { input: '+44 7911 123456', e164: '+447911123456', country: 'GG' },
  // Germany
  { input: '030 123456', region: 'DE', e164: '+4930123456', country: 'DE' },
  { input: '+49 30 12345678', e164: '+493012345678', country: 'DE' },
  { input: '089 1234567', region: 'DE', e164: '+49891234567', country: 'DE' },
  { input: '01512 3456789', region: 'DE', e164: '+4915123456789', country: 'DE' },
  { input: '+49 1512 3456789', e164: '+4915123456789', country: 'DE' },
  // France
  { input: '01 23 45 67 89', region: 'FR', e164: '+33123456789', country: 'FR' },
  { input: '01 99 00 12 34', region: 'FR', e164: '+33199001234', country: 'FR' },
  { input: '06 12 34 56 78', region: 'FR', e164: '+33612345678', country: 'FR' },
  { input: '+33 6 12 34 56 78', e164: '+33612345678', country: 'FR' },
  // Italy: the leading 0 of a fixed line is part of the number and is kept
  { input: '+39 06 6982 0000', e164: '+390669820000', country: 'VA' },
  { input: '06 6982 0000', region: 'IT', e164: '+390669820000', country: 'VA' },
  { input: '06 4991 1234', region: 'IT', e164: '+390649911234', country: 'IT' },
  { input: '+39 02 1234 5678', e164: '+390212345678', country: 'IT' },
  { input: '02 1234 5678', region: 'IT', e164: '+390212345678', country: 'IT' },
  { input: '312 345 6789', region: 'IT', e164: '+393123456789', country: 'IT' },
  { input: '+39 312 345 6789', e164: '+393123456789', country: 'IT' },
  // Spain
  { input: '+34 912 345 678', e164: '+34912345678', country: 'ES' },
  { input: '912 345 678', region: 'ES', e164: '+34912345678', country: 'ES' },
  { input: '612 345 678', region: 'ES', e164: '+34612345678', country: 'ES' },
  { input: '+34 612 34 56 78', e164: '+34612345678', country: 'ES' },
  // Netherlands
  { input: '+31 20 123 4567', e164: '+31201234567', country: 'NL' },
  { input: '020 123 4567', region: 'NL', e164: '+31201234567', country: 'NL' },
  { input: '06 12345678', region: 'NL', e164: '+31612345678', country: 'NL' },
  { input: '+31 6 12345678', e164: '+31612345678', country: 'NL' },
  // Brazil
  { input: '+55 11 91234-5678', e164: '+5511912345678', country: 'BR' },
  { input: '(11) 91234-5678', region: 'BR', e164: '+5511912345678', country: 'BR' },
  { input: '+55 11 2345-6789', e164: '+551123456789', country: 'BR' },
  { input: '(21) 2345-6789', region: 'BR', e164: '+552123456789', country: 'BR' },
  // India
  { input: '+91 98765 43210', e164: '+919876543210', country: 'IN' },
  { input: '098765 43210', region: 'IN', e164: '+919876543210', country: 'IN' },
  { input: '98765 43210', region: 'IN', e164: '+919876543210', country: 'IN' },
  { input: '+91 22 2345 6789', e164: '+912223456789', country: 'IN' },
  // Australia
  { input: '+61 2 9876 5432', e164: '+61298765432', country: 'AU' },
  { input: '(02) 9876 5432', region: 'AU', e164: '+61298765432', country: 'AU' },
  { input: '(02) 5550 1234', region: 'AU', e164: '+61255501234', country: 'AU' },
  { input: '(03) 7010 1234', region: 'AU', e164: '+61370101234', country: 'AU' },
  { input: '0491 570 156', region: 'AU', e164: '+61491570156', country: 'AU' },
  { input: '+61 412 345 678', e164: '+61412345678', country: 'AU' },
  // Japan
  { input: '+81 3-1234-5678', e164: '+81312345678', country: 'JP' },
  { input: '03-1234-5678', region: 'JP', e164: '+81312345678', country: 'JP' },
  { input: '090-1234-5678', region: 'JP', e164: '+819012345678', country: 'JP' },
  // Mexico (including the pre-2019 mobile "1" that WhatsApp still sends)
  { input: '+52 55 1234 5678', e164: '+525512345678', country: 'MX' },
  { input: '55 1234 5678', region: 'MX', e164: '+525512345678', country: 'MX' },
  { input: '+52 33 1234 5678', e164: '+523312345678', country: 'MX' },
  { input: '+52 1 55 1234 5678', e164: '+525512345678', country: 'MX' },
  // South Africa
  { input: '+27 21 123 4567', e164: '+27211234567', country: 'ZA' },
  { input: '021 123 4567', region: 'ZA', e164: '+27211234567', country: 'ZA' },
  { input: '082 123 4567', region: 'ZA', e164: '+27821234567', country: 'ZA' },
  // Elsewhere
  { input: '044 668 18 00', region: 'CH', e164: '+41446681800', country: 'CH' },
  { input: '+46 8 123 456 78', e164: '+46812345678', country: 'SE' },
  { input: '+353 1 234 5678', e164: '+35312345678', country: 'IE' },
  { input: '9123 4567', region: 'SG', e164: '+6591234567', country: 'SG' },
  { input: '32 12 34 56', region: 'DK', e164: '+4532123456', country: 'DK' },
  { input: '8 (495) 123-45-67', region: 'RU', e164: '+74951234567', country: 'RU' },
  { input: '+971 50 123 4567', e164: '+971501234567', country: 'AE' },
  { input: '+800 1234 5678', e164: '+80012345678' },
];

const TRUNK_AND_INTERNATIONAL_PREFIXES: Accepted[] = [
  { input: '+44 (0)20 7946 0958', e164: '+442079460958', country: 'GB' },
  { input: '+44 020 7946 0958', e164: '+442079460958', country: 'GB' },
  { input: '+49 (0)30 123456', e164: '+4930123456', country: 'DE' },
  { input: '+33 (0)1 23 45 67 89', e164: '+33123456789', country: 'FR' },
  { input: '011 44 20 7946 0958', region: 'US', e164: '+442079460958', country: 'GB' },
  { input: '011 33 1 23 45 67 89', region: 'CA', e164: '+33123456789', country: 'FR' },
  { input: '00 44 20 7946 0958', region: 'DE', e164: '+442079460958', country: 'GB' },
  { input: '0044 20 7946 0958', region: 'GB', e164: '+442079460958', country: 'GB' },
  { input: '0049 30 123456', region: 'FR', e164: '+4930123456', country: 'DE' },
  { input: '00 1 415 555 2671', region: 'FR', e164: '+14155552671', country: 'US' },
  { input: '00 39 06 6982 0000', region: 'ES', e164: '+390669820000', country: 'VA' },
  // 00 from a NANP region is not the local international prefix, but it has only one meaning.
  { input: '00 44 20 7946 0958', region: 'US', e164: '+442079460958', country: 'GB' },
  { input: '0011 61 2 9876 5432', region: 'AU', e164: '+61298765432', country: 'AU' },
  { input: '010 81 3 1234 5678', region: 'JP', e164: '+81312345678', country: 'JP' },
];

const UNICODE_FORMS: Accepted[] = [
  { input: '＋１ ４１５ ５５５ ２６７１', e164: '+14155552671' },
  { input: '＋４４ ２０ ７９４６ ０９５８', e164: '+442079460958' },
  { input: '\u202A+1 415 555 2671\u202C', e164: '+14155552671' },
  { input: '\u200E+44 20 7946 0958\u200F', e164: '+442079460958' },
  { input: '+1\u200B415\u200B555\u200B2671', e164: '+14155552671' },
  { input: '\uFEFF+14155552671', e164: '+14155552671' },
  { input: '+1\u00A0415\u00A0555\u00A02671', e164: '+14155552671' },
  { input: '+1\u2011415\u2011555\u20112671', e164: '+14155552671' },
  { input: '\u2066+33 1 23 45 67 89\u2069', e164: '+33123456789' },
  { input: '+٩٧١ ٥٠ ١٢٣ ٤٥٦٧', e164: '+971501234567' },
  { input: '  +1 415 555 2671\t\n', e164: '+14155552671' },
];

const EXTENSIONS: Accepted[] = [
  { input: '+1 415 555 2671 ext. 12', e164: '+14155552671', extensionDropped: true },
  { input: '+1 415 555 2671;ext=12', e164: '+14155552671', extensionDropped: true },
  { input: '+1 415 555 2671 x12', e164: '+14155552671', extensionDropped: true },
  { input: '(415) 555-2671 extension 4', e164: '+14155552671', extensionDropped: true },
  { input: '+1 415 555 2671 #12', e164: '+14155552671', extensionDropped: true },
  { input: '020 7946 0958 ext 301', region: 'GB', e164: '+442079460958', extensionDropped: true },
];

const URIS_AND_CHANNELS: Accepted[] = [
  { input: 'tel:+1-415-555-2671', e164: '+14155552671' },
  { input: 'TEL:+14155552671', e164: '+14155552671' },
  { input: 'tel:+1-415-555-2671;phone-context=example.com', e164: '+14155552671' },
  { input: 'tel:+1-415-555-2671;ext=12', e164: '+14155552671', extensionDropped: true },
  { input: 'tel:+44-20-7946-0958;isub=1411;foo=bar', e164: '+442079460958' },
  { input: 'tel:7946-0958;phone-context=+44-20', e164: '+442079460958' },
  { input: 'tel:(415) 555-2671', e164: '+14155552671' },
  { input: 'sip:+14155552671@pbx.example.com;user=phone', e164: '+14155552671' },
  { input: 'sip:+1-415-555-2671@pbx.example.com', e164: '+14155552671' },
  { input: 'sips:+442079460958@sbc.example.net:5061;transport=tls', e164: '+442079460958' },
  {
    input: 'sip:+14155552671;ext=7@pbx.example.com;user=phone',
    e164: '+14155552671',
    extensionDropped: true,
  },
  { input: 'sip:+14155552671:secret@pbx.example.com', e164: '+14155552671' },
  { input: 'sip:%2B14155552671@pbx.example.com', e164: '+14155552671' },
  { input: 'whatsapp:+14155552671', e164: '+14155552671' },
  { input: 'whatsapp:+5215512345678', e164: '+525512345678', country: 'MX' },
];

const REJECTIONS: Rejected[] = [
  // nothing there
  { input: '', reason: 'empty' },
  { input: '   ', reason: 'empty' },
  { input: '\u200B\u200E', reason: 'empty' },
  { input: null, reason: 'empty' },
  { input: undefined, reason: 'empty' },
  { input: 'tel:', reason: 'empty' },
  // withheld callers, as words and as Twilio's keypad spellings
  { input: 'Anonymous', reason: 'withheld' },
  { input: 'anonymous', reason: 'withheld' },
  { input: 'ANONYMOUS', reason: 'withheld' },
  { input: 'Restricted', reason: 'withheld' },
  { input: 'Unknown', reason: 'withheld' },
  { input: 'Unavailable', reason: 'withheld' },
  { input: 'Private', reason: 'withheld' },
  { input: ' Withheld ', reason: 'withheld' },
  { input: '+266696687', reason: 'withheld' },
  { input: '266696687', reason: 'withheld' },
  { input: '+86282452253', reason: 'withheld' },
  { input: '+8656696', reason: 'withheld' },
  { input: '+7378742833', reason: 'withheld' },
  { input: '+2562533', reason: 'withheld' },
  { input: 'tel:+266696687', reason: 'withheld' },
  { input: 'sip:anonymous@anonymous.invalid', reason: 'withheld' },
  { input: 'sip:+266696687@pbx.example.com', reason: 'withheld' },
  // Twilio Client (Voice SDK) identities
  { input: 'client:alice', reason: 'client_identity' },
  { input: 'Client:Agent_42', reason: 'client_identity' },
  { input: 'client:', reason: 'client_identity' },
  // SIP addresses without an E.164 user part: never guessed
  { input: 'sip:alice@example.sip.twilio.com', reason: 'sip_uri' },
  { input: 'sip:14155552671@pbx.example.com', reason: 'sip_uri' },
  { input: 'sip:4155552671@pbx.example.com', reason: 'sip_uri' },
  { input: 'sip:1001@pbx.example.com', reason: 'sip_uri' },
  { input: 'sip:pbx.example.com', reason: 'sip_uri' },
  { input: 'sip:%zz@pbx.example.com', reason: 'sip_uri' },
  // alphanumeric sender IDs and vanity numbers
  { input: 'ACME', reason: 'alphanumeric' },
  { input: 'MyBank', reason: 'alphanumeric' },
  { input: 'Uber Eats', reason: 'alphanumeric' },
  { input: '1-800-FLOWERS', reason: 'alphanumeric' },
  { input: 'whatsapp:ACME', reason: 'alphanumeric' },
  // short codes
  { input: '22395', reason: 'short_code' },
  { input: '898211', reason: 'short_code' },
  { input: '311', reason: 'short_code' },
  { input: '12345678', reason: 'short_code' },
  { input: '22395', region: 'GB', reason: 'short_code' },
  // not valid according to libphonenumber-js
  { input: '1', reason: 'invalid' },
  { input: '+', reason: 'invalid' },
  { input: '+0', reason: 'invalid' },
  { input: '+1 415 555', reason: 'invalid' },
  { input: '+1 011 555 2671', reason: 'invalid' },
  { input: '+44 7700 900123', reason: 'invalid' },
  { input: '07700 900123', region: 'GB', reason: 'invalid' },
  { input: '+14155552671 +14155552671', reason: 'invalid' },
  { input: '++14155552671', reason: 'invalid' },
  { input: '44 20 7946 0958', region: 'US', reason: 'invalid' },
  { input: 'tel:1234;phone-context=pbx.example.com', reason: 'invalid' },
  { input: 'sip:+999123@pbx.example.com', reason: 'invalid' },
  { input: 14155552671, reason: 'invalid' },
  { input: { number: '+14155552671' }, reason: 'invalid' },
  { input: ['+14155552671'], reason: 'invalid' },
  // absurdly long
  { input: `+1 415 555 2671${' '.repeat(50)}`, reason: 'too_long' },
  { input: '9'.repeat(65), reason: 'too_long' },
  { input: 'x'.repeat(1_000_000), reason: 'too_long' },
  // NFKC can expand one character into many; the bound holds after normalization too.
  { input: '\uFDFA'.repeat(4), reason: 'too_long' },
];

describe('normalizePhone', () => {
  it.each(NATIONAL_AND_INTERNATIONAL)('reads $input (region $region) as $e164', expectAccepted);
  it.each(TRUNK_AND_INTERNATIONAL_PREFIXES)('handles prefixes in $input (region $region)', expectAccepted);
  it.each(UNICODE_FORMS)('normalizes Unicode in $input', expectAccepted);
  it.each(EXTENSIONS)('drops the extension of $input', expectAccepted);
  it.each(URIS_AND_CHANNELS)('reads the URI $input', expectAccepted);
  it.each(REJECTIONS.map((row) => ({ ...row, shown: show(row.input) })))(
    'rejects $shown as $reason',
    expectRejected,
  );

  it('reports country and type from the max metadata', () => {
    expect(normalizePhone('+44 7400 123456')).toEqual({
      ok: true,
      e164: '+447400123456',
      country: 'GB',
      type: 'MOBILE',
      extensionDropped: false,
    });
    expect(normalizePhone('+800 1234 5678')).toMatchObject({ country: undefined, type: 'TOLL_FREE' });
  });

  it('never echoes the input in its messages (they are logged)', () => {
    const result = normalizePhone('+1 415 555 0000 0000');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).not.toContain('555');
  });
});

describe('normalizePhone regions', () => {
  const cases: Array<{ region: unknown; input: string; expected: Partial<NormalizedPhone> }> = [
    { region: 'gb', input: '020 7946 0958', expected: { ok: true, e164: '+442079460958' } },
    { region: ' de ', input: '030 123456', expected: { ok: true, e164: '+4930123456' } },
    { region: 'UK', input: '020 7946 0958', expected: { ok: true, e164: '+442079460958' } },
    { region: 'XX', input: '+1 415 555 2671', expected: { ok: true, e164: '+14155552671' } },
    { region: 'XX', input: '(415) 555-2671', expected: { ok: false, reason: 'invalid' } },
    { region: '', input: '(415) 555-2671', expected: { ok: false, reason: 'invalid' } },
    { region: 'United States', input: '(415) 555-2671', expected: { ok: false, reason: 'invalid' } },
    { region: 42, input: '(415) 555-2671', expected: { ok: false, reason: 'invalid' } },
    { region: '__proto__', input: '(415) 555-2671', expected: { ok: false, reason: 'invalid' } },
    { region: 'XX', input: '00 44 20 7946 0958', expected: { ok: true, e164: '+442079460958' } },
    { region: 'XX', input: 'tel:+44-20-7946-0958', expected: { ok: true, e164: '+442079460958' } },
  ];

  it.each(cases)('region %j', ({ region, input, expected }) => {
    // Regions arrive from query strings and config: the runtime value may be anything.
    const result = normalizePhone(input, { region } as { region?: string });
    expect(result).toMatchObject(expected);
  });

  it('says why a national number cannot be read when the region is unknown', () => {
    const result = normalizePhone('(415) 555-2671', { region: 'ZZ' });
    expect(result).toMatchObject({ ok: false, reason: 'invalid' });
    if (!result.ok) expect(result.message).toMatch(/region/i);
  });
});

describe('normalizePhone never throws', () => {
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('boom');
      },
    },
  );
  const hostile: unknown[] = [
    0,
    Number.NaN,
    10n ** 20n,
    true,
    Symbol('x'),
    () => '+14155552671',
    new Date(0),
    throwingProxy,
    '\uD800',
    '+1 415 \uDC00 555 2671',
    '((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((',
    `${'+1'.repeat(32)}`,
    'sip:@',
    'sip::@:',
    'tel:;;;;;;;;;=;=;phone-context',
    'tel:1;phone-context=+',
    'sips:%',
    '\u0000\u0001\u0002',
    'x'.repeat(10_000_000),
  ];

  it.each(hostile.map((input) => ({ input, shown: show(input) })))('survives $shown', ({ input }) => {
    expect(() => normalizePhone(input)).not.toThrow();
    expect(() => normalizePhone(input, { region: 'GB' })).not.toThrow();
  });

  it('survives hostile options', () => {
    const options = [null, 5, 'US', throwingProxy, { region: throwingProxy }] as unknown[];
    for (const option of options) {
      expect(() => normalizePhone('+14155552671', option as { region?: string })).not.toThrow();
    }
  });

  it('rejects overlong input by its length, before reading it', () => {
    // Ten million characters: refused for being too long, whatever they are.
    expect(normalizePhone('+1'.repeat(5_000_000))).toMatchObject({ ok: false, reason: 'too_long' });
    // Content that would be refused for another reason is still refused first for its length.
    expect(normalizePhone(`+1415555267${'x'.repeat(100)}`)).toMatchObject({ ok: false, reason: 'too_long' });
  });
});

describe('isE164', () => {
  it.each([
    ['+14155552671', true],
    ['+442079460958', true],
    ['+390669820000', true],
    ['+123456789012345', true],
    ['+1234567890123456', false],
    ['14155552671', false],
    ['+04155552671', false],
    ['+1 415 555 2671', false],
    ['+', false],
    ['', false],
    ['+14155552671\n', false],
  ])('%j → %s', (value, expected) => {
    expect(isE164(value)).toBe(expected);
  });
});

describe('maskPhone', () => {
  it.each([
    ['+14155550100', '•••••••0100'],
    ['+442079460958', '••••••••0958'],
    ['(415) 555-0100', '••••••0100'],
    ['12345', '•2345'],
    ['1234', '••••'],
    ['22', '••••'],
    ['', '••••'],
    ['client:alice', '••••'],
    ['9'.repeat(65), '••••'],
  ])('%j → %j', (value, expected) => {
    expect(maskPhone(value)).toBe(expected);
  });
});

describe('formatPhoneForHumans', () => {
  it.each([
    ['+14155550100', '+1 415 555 0100'],
    ['+442079460958', '+44 20 7946 0958'],
    ['+390669820000', '+39 06 6982 0000'],
    ['+4930123456', '+49 30 123456'],
    ['+81312345678', '+81 3 1234 5678'],
    ['not a number', 'not a number'],
    ['', ''],
  ])('%j → %j', (value, expected) => {
    expect(formatPhoneForHumans(value)).toBe(expected);
  });
});
