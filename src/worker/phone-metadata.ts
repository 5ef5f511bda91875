import { installPhoneMetadata, phoneMetadataLoaded } from '../shared/phone/metadata-runtime.js';

/**
 * Loads libphonenumber-js's `max` metadata from the Worker's static assets (scripts/build-assets.mjs
 * puts it there at build time) into `#phone-metadata`, once per isolate. The Worker entry awaits this before
 * handing a request to the app, so normalizePhone stays synchronous and never runs without metadata.
 *
 * One shared attempt: concurrent first requests all wait on it. A failed or stalled attempt is dropped, so
 * the next request tries again; the requests that saw it fail answer 503, never a guess about a number.
 */

/** scripts/build-assets.mjs METADATA_FILE. The host is ignored by the assets binding. */
const METADATA_URL = 'https://assets.invalid/phone-metadata.max.json';
/** A local asset read takes milliseconds; past this the attempt is treated as failed (503, retried next time). */
const LOAD_TIMEOUT_MS = 5_000;

/** The part of the assets binding used here (`Fetcher` on Workers). */
export interface AssetsFetcher {
  fetch(input: string): Promise<Response>;
}

export class PhoneMetadataUnavailable extends Error {
  override name = 'PhoneMetadataUnavailable';
}

let attempt: Promise<void> | undefined;

export function loadPhoneMetadata(assets: AssetsFetcher | undefined): Promise<void> {
  if (phoneMetadataLoaded()) return Promise.resolve();
  if (attempt === undefined) {
    const current = fetchAndInstall(assets).finally(() => {
      if (attempt === current) attempt = undefined;
    });
    attempt = current;
  }
  return withTimeout(attempt);
}

async function fetchAndInstall(assets: AssetsFetcher | undefined): Promise<void> {
  if (assets === undefined)
    throw new PhoneMetadataUnavailable('no ASSETS binding: wrangler.toml [assets] binding = "ASSETS"');
  const res = await assets.fetch(METADATA_URL);
  if (!res.ok) {
    await res.body?.cancel();
    throw new PhoneMetadataUnavailable(
      `phone metadata asset answered ${res.status}: was scripts/build-assets.mjs run ([build] command)?`,
    );
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch (err) {
    throw new PhoneMetadataUnavailable('phone metadata asset is not JSON', { cause: err });
  }
  try {
    installPhoneMetadata(json);
  } catch (err) {
    throw new PhoneMetadataUnavailable(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Each waiter gives up on its own clock; a stalled attempt is dropped so the next request starts afresh. */
function withTimeout(pending: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (attempt === pending) attempt = undefined;
      reject(new PhoneMetadataUnavailable(`phone metadata did not load within ${LOAD_TIMEOUT_MS} ms`));
    }, LOAD_TIMEOUT_MS);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}
