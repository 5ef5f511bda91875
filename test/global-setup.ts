import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The Node suite serves the console's bundled scripts from dist/assets, as `npm start` does: build them first. */
export default function setup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, ['scripts/build-assets.mjs'], { cwd: root, stdio: 'ignore' });
}
