import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The core runs unchanged on Node and on Workers: these rules keep it that way. */
const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

/** Code without comments, so a comment that mentions process.env is not an offence. */
function code(path: string): string {
  return readFileSync(join(root, path), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

// Only the Node entry and its folder may use Node's modules and environment.
const nodeOnly = (path: string) => path === 'src/node.ts' || path.startsWith('src/node/');
const core = sourceFiles(src)
  .map((path) => relative(root, path))
  .filter((path) => !nodeOnly(path));

describe('the core is runtime-neutral', () => {
  it('has core files to check', () => {
    expect(core).toContain('src/app.ts');
  });

  it.each(core)('%s imports no node:* module and reads no process.env', (path) => {
    const text = code(path);
    expect(text).not.toMatch(/from\s+['"]node:/);
    expect(text).not.toMatch(/import\(\s*['"]node:/);
    expect(text).not.toMatch(/\bprocess\.env\b/);
  });

  it.each(core.filter((path) => !path.startsWith('src/db/')))(
    '%s leaves drizzle to the data layer',
    (path) => {
      expect(code(path)).not.toMatch(/from\s+['"]drizzle-orm/);
    },
  );

  it.each(core)('%s imports the twilio package only through deep imports', (path) => {
    expect(code(path)).not.toMatch(/from\s+['"]twilio['"]/);
  });
});
