import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_CATCH_UP_CRON, RETENTION_CRON } from './crons.js';

/** `scheduled` dispatches on `controller.cron`, the pattern exactly as wrangler.toml writes it. */
describe('the Cron Triggers', () => {
  it('are the patterns src/worker.ts dispatches on, each once', () => {
    const toml = readFileSync(join(import.meta.dirname, '../..', 'wrangler.toml'), 'utf8');
    const list = /^\s*crons\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? '';
    const crons = [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(crons.sort()).toEqual([LOG_CATCH_UP_CRON, RETENTION_CRON].sort());
  });
});
