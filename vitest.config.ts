import { defineConfig } from 'vitest/config';

// Two projects in one `npm test`: the app on Node, and the Worker inside workerd (test/workers/).
// Two cores here: keep workers few so real servers, databases and Chromium don't starve each other.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: [
            'src/**/*.test.ts',
            'src/**/*.test.tsx',
            'test/**/*.test.ts',
            'actions/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: ['test/workers/**', 'node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
          pool: 'forks',
          maxWorkers: 2,
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      './test/workers/vitest.config.ts',
    ],
  },
});
