/**
 * `#phone-metadata` on Workers (package.json "imports", conditions `workerd` / `worker`): a holder the
 * Worker fills once per isolate, before its first request reaches the app, with libphonenumber-js's `max`
 * metadata served as a static asset (src/worker/phone-metadata.ts). Keeping those 40 KiB (gzipped) out of
 * the script is what keeps the Worker bundle under its budget; docs/normalization.md has the why.
 */
import { type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/core/es6';

let metadata: MetadataJson | undefined;

/** The metadata, or `undefined` while it is not loaded (the Worker entry waits for it before any request). */
export function phoneMetadata(): MetadataJson | undefined {
  if (metadata === undefined) {
    // Not reachable through the Worker entry; if it ever is, say so rather than classify numbers blind.
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'phone metadata used before it was loaded: numbers are answered as unavailable',
      }),
    );
  }
  return metadata;
}

export function phoneMetadataLoaded(): boolean {
  return metadata !== undefined;
}

/**
 * Numbers only the `max` flavour reads fully: an Isle of Man mobile is a MOBILE there but has no type in
 * `min`, and a London fixed line is not valid in `mobile`. A truncated or foreign file fails too.
 */
const PROBES = [
  ['+447457628735', 'MOBILE'],
  ['+442079460123', 'FIXED_LINE'],
] as const;

/** Checks `json` really is libphonenumber-js `max` metadata, then installs it for every later call. */
export function installPhoneMetadata(json: unknown): void {
  if (!isMetadataShaped(json)) throw new Error('phone metadata: not libphonenumber-js metadata');
  for (const [number, type] of PROBES) {
    const probe = parsePhoneNumberFromString(number, { extract: false }, json);
    if (!probe?.isValid() || probe.getType() !== type)
      throw new Error('phone metadata: not the `max` metadata (number types missing)');
  }
  metadata = json;
}

function isMetadataShaped(json: unknown): json is MetadataJson {
  if (typeof json !== 'object' || json === null) return false;
  const { version, countries, country_calling_codes: codes } = json as Record<string, unknown>;
  return (
    typeof version === 'number' &&
    typeof countries === 'object' &&
    countries !== null &&
    typeof codes === 'object' &&
    codes !== null
  );
}
