import type { StaticAssets } from '../deps.js';
import type { AssetsFetcher } from './phone-metadata.js';

/** The built assets from the Worker's ASSETS binding (wrangler.toml `[assets]`); the host is ignored. */
export function createBindingAssets(binding: AssetsFetcher | undefined): StaticAssets {
  return {
    async text(path) {
      if (!binding) return null;
      const res = await binding.fetch(`https://assets.invalid/${path.replace(/^\/+/, '')}`);
      if (!res.ok) {
        await res.body?.cancel();
        return null;
      }
      return res.text();
    },
  };
}
