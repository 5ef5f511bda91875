import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';
import { DATABASE_AUTH_TOKEN } from './global-setup.js';
import { WORKER_TEST_SECRETS } from './secrets.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// wrangler runs wrangler.toml's [build] command before `deploy` and `dev`; the pool only reads the config, so
// the static assets the Worker loads its phone metadata from are put in place here.
execFileSync(process.execPath, ['scripts/build-assets.mjs'], { cwd: root, stdio: 'ignore' });

/**
 * The Worker inside workerd (the runtime Cloudflare runs), built from wrangler.toml exactly as deployed:
 * the real entry, the real Durable Object, libSQL over HTTP to the loopback server from global-setup.ts.
 * Only the secrets are the suite's own (./secrets.ts).
 */
export default defineProject({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: './src/worker.ts',
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          ...WORKER_TEST_SECRETS,
          DATABASE_URL: inject('databaseUrl'),
          DATABASE_AUTH_TOKEN,
        },
      },
    })),
  ],
  test: {
    name: 'workers',
    root,
    include: ['test/workers/**/*.test.ts'],
    globalSetup: ['test/workers/global-setup.ts'],
    // After the node project, not beside it: two cores can't run workerd, Chromium and the Node suite at once.
    sequence: { groupOrder: 1 },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
