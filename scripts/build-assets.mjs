/**
 * Builds what callerpop serves besides its code, into dist/assets (wrangler.toml `[assets]`, and what the Node
 * entry reads at start):
 * - `phone-metadata.max.json`: libphonenumber-js's `max` metadata, as the installed package ships it; the
 *   Worker loads it once per isolate (docs/normalization.md);
 * - `agent/console.js`, `agent/frame.js`: the console's browser scripts, bundled from their TypeScript
 *   (src/console/client/) with esbuild.
 * It runs before `npm start` (prestart), before the test suites (their global setup), and before every
 * `wrangler deploy` (also --dry-run) and `wrangler dev` (wrangler.toml `[build] command`). Plain JavaScript:
 * it runs with `node`, no loader. About 50 ms.
 *
 *   node scripts/build-assets.mjs
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
/** wrangler.toml `[assets] directory`; dist/ is not committed. */
export const ASSETS_DIR = join(root, 'dist', 'assets');
/** The path src/worker/phone-metadata.ts fetches from the ASSETS binding. */
export const METADATA_FILE = 'phone-metadata.max.json';
/** Browser entry points, by the path they are served under (below /agent/assets on the console's routes). */
export const CLIENT_SCRIPTS = {
  'agent/console.js': 'src/console/client/console.ts',
  'agent/frame.js': 'src/console/client/frame.ts',
};

export function copyPhoneMetadata() {
  // Resolved the way the package exports it (CommonJS `require` condition: the JSON file itself).
  const source = createRequire(join(root, 'package.json')).resolve('libphonenumber-js/metadata.max.json');
  const target = join(ASSETS_DIR, METADATA_FILE);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  return { source: relative(root, source), target: relative(root, target) };
}

export async function bundleClientScripts() {
  for (const [out, entry] of Object.entries(CLIENT_SCRIPTS)) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(ASSETS_DIR, out),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      logLevel: 'error',
    });
  }
  return Object.keys(CLIENT_SCRIPTS).map((out) => relative(root, join(ASSETS_DIR, out)));
}

export async function buildAssets() {
  const metadata = copyPhoneMetadata();
  const scripts = await bundleClientScripts();
  return { metadata, scripts };
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const { metadata, scripts } = await buildAssets();
  console.log(`assets: ${metadata.target}, ${scripts.join(', ')}`);
}
