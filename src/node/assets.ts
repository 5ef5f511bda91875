import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { StaticAssets } from '../deps.js';

/** dist/assets, where scripts/build-assets.mjs writes (npm start runs it first, as prestart). */
export const ASSETS_DIR = new URL('../../dist/assets', import.meta.url).pathname;

/** The built assets, read from disk once each and kept for the life of these deps. */
export function createFileAssets(dir = ASSETS_DIR): StaticAssets {
  const read = new Map<string, Promise<string | null>>();
  return {
    text(path) {
      const file = normalize(join(dir, path));
      if (!file.startsWith(normalize(dir))) return Promise.resolve(null);
      let text = read.get(file);
      if (!text) {
        text = readFile(file, 'utf8').catch(() => null);
        read.set(file, text);
      }
      return text;
    },
  };
}
