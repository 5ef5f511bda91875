/**
 * `#phone-metadata` everywhere but Workers (package.json "imports", condition `default`): libphonenumber-js's
 * `max` metadata — the same object `libphonenumber-js/max` passes to every call — imported with the code,
 * so on Node it is there before the first call, exactly as before.
 */
import type { MetadataJson } from 'libphonenumber-js/core/es6';
import metadata from 'libphonenumber-js/metadata.max.json';

/** The metadata, or `undefined` while it is not loaded (never, here). */
export function phoneMetadata(): MetadataJson | undefined {
  return metadata;
}
