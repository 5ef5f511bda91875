import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The callerpop scripts that call callerpop; each is pasted into Auth0 on its own, so each is checked on its own. */
const SCRIPTS = [
  'post-user-registration',
  'post-login',
  'send-phone-message',
  'custom-phone-provider',
  'verify-phone',
];
/** Every script pasted into Auth0, including the roles one that makes no request. */
const ALL_SCRIPTS = [...SCRIPTS, 'agent-roles'];
const source = (name: string) => readFileSync(new URL(`./${name}.js`, import.meta.url), 'utf8');
const clientBlock = (text: string) =>
  /\/\/ --- callerpop client[\s\S]*?\/\/ --- end of callerpop client ---/.exec(text)?.[0];

describe('Action scripts', () => {
  it.each(ALL_SCRIPTS)('%s fits in an Action (under 100 kB) and needs no dependency', (name) => {
    const text = source(name);
    expect(Buffer.byteLength(text)).toBeLessThan(100 * 1024);
    const required = [...text.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
    expect(required).toEqual(SCRIPTS.includes(name) ? ['node:crypto'] : []);
    expect(text).not.toMatch(/\bimport\s/);
  });

  it('carries the same client block in every script (each is pasted on its own: keep the copies equal)', () => {
    const blocks = SCRIPTS.map((name) => clientBlock(source(name)));
    expect(blocks[0]).toBeTruthy();
    for (const block of blocks) expect(block).toBe(blocks[0]);
  });
});
