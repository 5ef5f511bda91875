import VoiceResponse from 'twilio/lib/twiml/VoiceResponse';

/**
 * The TwiML a voice OTP call plays: an introduction, then the code digit by digit with a pause after each,
 * twice. Pure function of its input, built with Twilio's TwiML class (escaping and element names are
 * Twilio's). Digits are spoken by the text-to-speech voice of the caller's language, so they need no
 * translation; the two short phrases are translated for the languages below and otherwise replaced by
 * Auth0's own rendered voice text (already in the user's language), or English.
 */

type SayLanguage = NonNullable<VoiceResponse.SayAttributes['language']>;

/** Languages Twilio's <Say> speaks (VoiceResponse.SayLanguage), as the locale they are picked for. */
// biome-ignore format: a table reads better packed
const SAY_LANGUAGES: readonly SayLanguage[] = [
  'af-ZA', 'ar-AE', 'bg-BG', 'ca-ES', 'cmn-CN', 'cmn-TW', 'cs-CZ', 'cy-GB', 'da-DK', 'de-AT', 'de-DE',
  'el-GR', 'en-AU', 'en-CA', 'en-GB', 'en-IE', 'en-IN', 'en-NZ', 'en-US', 'en-ZA', 'es-ES', 'es-MX',
  'es-US', 'fi-FI', 'fil-PH', 'fr-BE', 'fr-CA', 'fr-FR', 'he-IL', 'hi-IN', 'hu-HU', 'id-ID', 'is-IS',
  'it-IT', 'ja-JP', 'ko-KR', 'lv-LV', 'ms-MY', 'nb-NO', 'nl-BE', 'nl-NL', 'pl-PL', 'pt-BR', 'pt-PT',
  'ro-RO', 'ru-RU', 'sk-SK', 'sr-RS', 'sv-SE', 'th-TH', 'tr-TR', 'uk-UA', 'vi-VN', 'yue-HK', 'zh-CN',
  'zh-HK', 'zh-TW',
];
const BY_TAG: ReadonlyMap<string, SayLanguage> = new Map(SAY_LANGUAGES.map((l) => [l.toLowerCase(), l]));
/** A bare language (or an unsupported region of it) goes to its most common voice. */
// biome-ignore format: a table reads better packed
const BY_LANGUAGE: Readonly<Record<string, SayLanguage>> = {
  en: 'en-US', es: 'es-ES', fr: 'fr-FR', de: 'de-DE', it: 'it-IT', pt: 'pt-BR', nl: 'nl-NL', ja: 'ja-JP',
  ko: 'ko-KR', zh: 'zh-CN', cmn: 'cmn-CN', ru: 'ru-RU', pl: 'pl-PL', sv: 'sv-SE', da: 'da-DK', nb: 'nb-NO',
  no: 'nb-NO', fi: 'fi-FI', tr: 'tr-TR', ar: 'ar-AE', he: 'he-IL', hi: 'hi-IN', id: 'id-ID', ms: 'ms-MY',
  th: 'th-TH', vi: 'vi-VN', uk: 'uk-UA', cs: 'cs-CZ', sk: 'sk-SK', hu: 'hu-HU', ro: 'ro-RO', el: 'el-GR',
  bg: 'bg-BG', ca: 'ca-ES', cy: 'cy-GB', is: 'is-IS', lv: 'lv-LV', sr: 'sr-RS', af: 'af-ZA', fil: 'fil-PH',
};

const PHRASES: Readonly<Record<string, { intro: string; repeat: string }>> = {
  en: { intro: 'Your verification code is', repeat: 'Once again, your code is' },
  es: { intro: 'Su código de verificación es', repeat: 'Repito, su código es' },
  fr: { intro: 'Votre code de vérification est', repeat: 'Je répète, votre code est' },
  de: { intro: 'Ihr Bestätigungscode lautet', repeat: 'Noch einmal, Ihr Code lautet' },
  it: { intro: 'Il suo codice di verifica è', repeat: 'Ripeto, il suo codice è' },
  pt: { intro: 'O seu código de verificação é', repeat: 'Repetindo, o seu código é' },
  nl: { intro: 'Uw verificatiecode is', repeat: 'Nogmaals, uw code is' },
};

/** `en_US`, `en-us`, `pt`, `zh-Hant-TW`… → a language Twilio speaks; unknown → en-US. */
export function sayLanguageFor(locale: string | undefined): SayLanguage {
  if (!locale) return 'en-US';
  const parts = locale.trim().replace(/_/g, '-').toLowerCase().split('-').filter(Boolean);
  const language = parts[0] ?? '';
  const region = parts.length > 1 ? parts[parts.length - 1] : undefined;
  return (region && BY_TAG.get(`${language}-${region}`)) || BY_LANGUAGE[language] || 'en-US';
}

export interface OtpVoiceInput {
  code: string;
  locale?: string;
  /** Auth0's rendered voice text: the introduction when no translation of ours fits the locale. */
  fallbackText?: string;
}

const REPETITIONS = 2;
/** Twilio refuses inline TwiML over 4,000 characters; Auth0's text only introduces the digits. */
const MAX_FALLBACK_CHARS = 500;

export function buildOtpVoiceTwiml(input: OtpVoiceInput): string {
  const language = sayLanguageFor(input.locale);
  const base = language.split('-')[0] ?? 'en';
  const phrases = PHRASES[base === 'cmn' ? 'zh' : base];
  const fallback = input.fallbackText?.trim().slice(0, MAX_FALLBACK_CHARS) || undefined;
  const intro = phrases?.intro ?? fallback ?? (PHRASES.en as { intro: string }).intro;
  const repeat = phrases?.repeat;
  // A known phrase or Auth0's text is said in the locale's voice; the English default in an English one.
  const introLanguage: SayLanguage = phrases || fallback ? language : 'en-US';

  const response = new VoiceResponse();
  response.say({ language: introLanguage }, intro);
  response.pause({ length: 1 });
  for (let round = 0; round < REPETITIONS; round++) {
    if (round > 0) {
      response.pause({ length: 2 });
      if (repeat) response.say({ language }, repeat);
      response.pause({ length: 1 });
    }
    for (const digit of input.code) {
      response.say({ language }, digit);
      response.pause({ length: 1 });
    }
  }
  return response.toString();
}
