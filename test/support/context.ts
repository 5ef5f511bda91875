import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { type Config, type ConfigInput, parseConfig } from '../../src/config.js';
import { type AppDeps, createAppDeps } from '../../src/deps.js';
import { createFileAssets } from '../../src/node/assets.js';
import { openDatabase } from '../../src/node/deps.js';
import { nullHub } from '../../src/push/types.js';
import type { BackgroundWork } from '../../src/shared/background.js';
import { createMemoryLogger } from '../../src/shared/logger.js';

/** Secrets shaped like real ones; tests sign with these exactly as Twilio and the Actions would. */
export const TEST_ENV = {
  PUBLIC_BASE_URL: 'https://callerpop.test',
  // A development server at a made-up public URL: the explicit switch production-only settings need.
  DEV_TUNNEL: 'true',
  TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`,
  TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef',
  AUTH0_WEBHOOK_SECRET: `whsec_${btoa('callerpop-test-webhook-secret-32b')}`,
  AUTH0_LOG_STREAM_TOKEN: 'log-stream-token-0123456789abcdef',
  ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  SESSION_SECRET: 'session-secret-0123456789abcdef-0123456789abcdef',
} as const satisfies ConfigInput;

export interface TestContext {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  config: Config;
  logger: ReturnType<typeof createMemoryLogger>;
  /** The work requests left running after their responses (as on Node): `await background.settle()`. */
  background: BackgroundWork;
  dir: string;
  /** Closes the database (both its connections) and leaves the app running: a database gone under it. */
  closeDatabase: () => void;
  close: () => void;
}

/**
 * A real app over a real libSQL database file in a fresh temp folder, with the committed migrations.
 * Pass `deps` overrides for pieces a test supplies itself (a hub, a Twilio client, a clock). The Twilio
 * client defaults to the real one over `deps.fetch`, pointed by TWILIO_API_BASE_URL at a loopback fake.
 */
export async function createTestContext(
  options: { env?: ConfigInput; deps?: Partial<AppDeps> } = {},
): Promise<TestContext> {
  const dir = mkdtempSync(join(tmpdir(), 'callerpop-test-'));
  const config = parseConfig({ ...TEST_ENV, DATABASE_URL: `file:${join(dir, 'test.db')}`, ...options.env });
  const { db, sql, close: closeDatabase } = await openDatabase(config);
  const logger = createMemoryLogger();
  const deps = createAppDeps({
    config,
    db,
    sql,
    hub: nullHub,
    logger,
    fetch: globalThis.fetch.bind(globalThis),
    assets: createFileAssets(),
    ...options.deps,
  });
  return {
    app: createApp(deps),
    deps,
    config,
    logger,
    background: deps.background,
    dir,
    closeDatabase,
    close: () => {
      closeDatabase();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
