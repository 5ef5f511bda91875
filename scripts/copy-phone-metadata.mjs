/**
 * Puts libphonenumber-js's `max` metadata where the Worker loads it from: the static assets folder
 * (wrangler.toml `[assets]`), as the exact file the installed libphonenumber-js ships. wrangler.toml's
 * `[build] command` runs this before every `wrangler deploy` (and its --dry-run) and `wrangler dev`; the
 * workerd test suite runs it from its vitest config. Plain JavaScript: it runs with `node`, no loader.
 *
 *   node scripts/copy-phone-metadata.mjs
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
/** wrangler.toml `[assets] directory`; dist/ is not committed. */
export const ASSETS_DIR = join(root, 'dist', 'worker-assets');
/** The path src/worker/phone-metadata.ts fetches from the ASSETS binding. */
export const METADATA_FILE = 'phone-metadata.max.json';

export function copyPhoneMetadata() {
  // Resolved the way the package exports it (CommonJS `require` condition: the JSON file itself).
  const source = createRequire(join(root, 'package.json')).resolve('libphonenumber-js/metadata.max.json');
  const target = join(ASSETS_DIR, METADATA_FILE);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  return { source: relative(root, source), target: relative(root, target) };
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const { source, target } = copyPhoneMetadata();
  console.log(`phone metadata: ${source} -> ${target}`);
}
