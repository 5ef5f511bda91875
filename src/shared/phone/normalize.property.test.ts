import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getCountries, getExampleNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { formatPhoneForHumans } from './format.js';
import { isE164, maskPhone, type NormalizedPhone, normalizePhone } from './normalize.js';

const REASONS = new Set([
  'empty',
  'withheld',
  'client_identity',
  'sip_uri',
  'alphanumeric',
  'short_code',
  'invalid',
  'too_long',
]);

// Characters that steer the parser into its interesting branches: digits, punctuation, extension
// markers, URI schemes and parameters, invisible marks and full-width forms.
const phoneish = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...'0123456789'.split('')),
    fc.constantFrom('+', ' ', '-', '.', '(', ')', '/', '#', ';', '=', '@', ':', '%', 'x', 'ext.', ','),
    fc.constantFrom('tel:', 'sip:', 'sips:', 'client:', 'whatsapp:', ';ext=', ';phone-context=', '00', '011'),
    fc.constantFrom('\u200B', '\u200E', '\u202A', '\u202C', '\uFEFF', '\u00A0', '＋', '１', '٣', '\uFDFA'),
  ),
  maxLength: 40,
});

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'grapheme-composite', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'binary-ascii', maxLength: 80 }),
  phoneish,
);

const EXAMPLES = getCountries().flatMap((country) => {
  const example = getExampleNumber(country as CountryCode, examples);
  return example?.isValid() ? [{ country, example }] : [];
});

/** A valid number written the many ways callers and agents write it, with the region that reads it. */
const writtenNumber = fc
  .record({
    entry: fc.constantFrom(...EXAMPLES),
    form: fc.constantFrom('e164', 'international', 'national', 'tel', 'sip', 'idd00'),
    wrap: fc.constantFrom('', '\u200E', '\u202A', ' ', '\uFEFF'),
    extension: fc.constantFrom('', ' ext. 12', ';ext=7', ' x3'),
    fullWidth: fc.boolean(),
  })
  .map(({ entry, form, wrap, extension, fullWidth }) => {
    const { example, country } = entry;
    const written = {
      e164: example.number,
      international: example.formatInternational(),
      national: example.formatNational(),
      tel: example.getURI(),
      sip: `sip:${example.number}@pbx.example.com;user=phone`,
      idd00: `00 ${example.formatInternational().slice(1)}`,
    }[form];
    const text = fullWidth ? toFullWidth(written) : written;
    // URIs carry extensions as parameters only; keep the URI well-formed.
    const ext = form === 'tel' || form === 'sip' ? '' : extension;
    return {
      input: `${wrap}${text}${ext}${wrap}`,
      region: country,
      e164: example.number,
      extended: ext !== '',
    };
  });

function toFullWidth(text: string): string {
  return text.replace(/[0-9+]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
}

const region = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...getCountries()),
  fc.string({ maxLength: 4 }),
);

function expectWellFormed(result: NormalizedPhone): void {
  if (result.ok) {
    expect(isE164(result.e164)).toBe(true);
  } else {
    expect(REASONS.has(result.reason)).toBe(true);
    expect(result.message.length).toBeGreaterThan(0);
  }
}

describe('normalizePhone properties', () => {
  it('never throws and always answers in the documented shape, for any string and region', () => {
    fc.assert(
      fc.property(anyText, region, (input, chosen) => {
        expectWellFormed(normalizePhone(input, chosen === undefined ? undefined : { region: chosen }));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws for any value at all', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (input, options) => {
        expectWellFormed(normalizePhone(input, options as { region?: string }));
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent: an accepted E.164 normalizes to itself, whatever the region', () => {
    const input = fc.oneof(
      anyText,
      writtenNumber.map(({ input }) => input),
    );
    fc.assert(
      fc.property(input, region, fc.constantFrom('US', 'GB', 'DE', 'JP', 'XX'), (input, chosen, other) => {
        const first = normalizePhone(input, chosen === undefined ? undefined : { region: chosen });
        if (!first.ok) return;
        const again = normalizePhone(first.e164, { region: other });
        expect(again).toEqual({ ...first, extensionDropped: false });
      }),
      { numRuns: 3000 },
    );
  });

  it('reads any valid number however it is written', () => {
    fc.assert(
      fc.property(writtenNumber, ({ input, region: chosen, e164, extended }) => {
        expect(normalizePhone(input, { region: chosen })).toMatchObject({
          ok: true,
          e164,
          extensionDropped: extended,
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('reads every supported region’s example mobile number, nationally and internationally', () => {
    for (const country of getCountries()) {
      const example = getExampleNumber(country as CountryCode, examples);
      if (example === undefined || !example.isValid()) continue;
      const national = normalizePhone(example.formatNational(), { region: country });
      const international = normalizePhone(example.formatInternational(), { region: 'US' });
      expect(national, `${country} national`).toMatchObject({ ok: true, e164: example.number });
      expect(international, `${country} international`).toMatchObject({ ok: true, e164: example.number });
    }
  });

  it('keeps accepted numbers idempotent through human formatting', () => {
    for (const country of getCountries()) {
      const example = getExampleNumber(country as CountryCode, examples);
      if (example === undefined || !example.isValid()) continue;
      const shown = formatPhoneForHumans(example.number);
      expect(normalizePhone(shown, { region: 'XX' })).toMatchObject({ ok: true, e164: example.number });
    }
  });
});

describe('maskPhone properties', () => {
  it('never reveals more than the last four digits', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const masked = maskPhone(value);
        const shownDigits = masked.replace(/\D/g, '');
        expect(shownDigits.length).toBeLessThanOrEqual(4);
        expect(value.replace(/\D/g, '').endsWith(shownDigits)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatPhoneForHumans properties', () => {
  it('never throws', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        expect(typeof formatPhoneForHumans(value)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});
