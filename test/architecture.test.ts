import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The rules of the house (docs/architecture.md), checked on every file of src/:
 * - the core runs unchanged on Node and on Workers;
 * - only the data layer imports drizzle;
 * - features use one another only through their public module (`index.ts`);
 * - the shared kernel imports no feature, and the database layer none but the schema registry;
 * - browser code imports only browser code (and types).
 */
const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

/** Code without comments, so a comment that mentions process.env is not an offence. */
function code(path: string): string {
  return readFileSync(join(root, path), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
}

function sourceFiles(dir: string, withTests = false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path, withTests);
    if (!/\.tsx?$/.test(entry.name)) return [];
    return withTests || !/\.test\.tsx?$/.test(entry.name) ? [relative(root, path)] : [];
  });
}

/** Folders of src/ that are not features: the kernel, the database layer and the two entries' helpers. */
const NOT_FEATURES = new Set(['shared', 'db', 'node', 'worker']);
const features = readdirSync(src, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !NOT_FEATURES.has(e.name))
  .map((e) => e.name);
const featureOf = (path: string) => {
  const [top, name] = path.split('/');
  return top === 'src' && name && features.includes(name) ? name : undefined;
};

/** Relative imports of a file, resolved to repository paths (`.js` specifiers name `.ts`/`.tsx` files). */
function imports(path: string): { target: string; typeOnly: boolean }[] {
  const out: { target: string; typeOnly: boolean }[] = [];
  for (const m of code(path).matchAll(/(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/g)) {
    const spec = m[3] ?? '';
    out.push({
      target: normalize(join(dirname(path), spec)).replace(/\.js$/, ''),
      typeOnly: m[2] !== undefined,
    });
  }
  return out;
}

// Only the Node entry, its folder and the command lines (backfill, connect) may use Node's modules.
const nodeOnly = (path: string) =>
  path === 'src/node.ts' ||
  path.startsWith('src/node/') ||
  path.startsWith('src/backfill/') ||
  path.startsWith('src/connect/');
const all = sourceFiles(src);
const core = all.filter((path) => !nodeOnly(path));
/** The data layer: the database folder, and each feature's schema and queries. */
const dataLayer = (path: string) =>
  path.startsWith('src/db/') || /\/(schema|queries|[a-z-]+-queries)\.ts$/.test(path);
/** Public modules besides index.ts: the push feature's Durable Object, which only the Worker entry loads. */
const WORKER_ONLY_PUBLIC = new Set(['src/push/durable-object']);

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

  it.each(all)('%s imports the twilio package only through deep imports', (path) => {
    expect(code(path)).not.toMatch(/from\s+['"]twilio['"]/);
  });
});

describe('only the data layer imports drizzle', () => {
  it.each(all.filter((path) => !dataLayer(path)))('%s', (path) => {
    expect(code(path)).not.toMatch(/from\s+['"]drizzle-orm/);
  });
});

describe('features use one another through their public module', () => {
  it('finds the features', () => {
    expect(features).toEqual(
      expect.arrayContaining(['inbound', 'auth0-feed', 'verify-phone', 'console', 'push']),
    );
  });

  it.each(sourceFiles(src, true))('%s', (path) => {
    const mine = featureOf(path);
    for (const { target } of imports(path)) {
      const theirs = featureOf(target);
      if (!theirs || theirs === mine) continue;
      if (path === 'src/db/schema.ts' && target === `src/${theirs}/schema`) continue;
      if (path === 'src/worker.ts' && WORKER_ONLY_PUBLIC.has(target)) continue;
      expect(target, `${path} reaches into ${theirs}`).toBe(`src/${theirs}/index`);
    }
  });
});

describe('the kernel and the database layer import no feature', () => {
  const lower = all.filter((path) => path.startsWith('src/shared/') || path.startsWith('src/db/'));
  it.each(lower)('%s', (path) => {
    for (const { target } of imports(path)) {
      if (path === 'src/db/schema.ts' && /^src\/[a-z0-9-]+\/schema$/.test(target)) continue;
      expect(featureOf(target), `${path} imports ${target}`).toBeUndefined();
      if (path.startsWith('src/shared/'))
        expect(target.startsWith('src/db/'), `${path} imports ${target}`).toBe(false);
      expect(
        target.startsWith('src/node') || target.startsWith('src/worker'),
        `${path} imports ${target}`,
      ).toBe(false);
    }
  });
});

/**
 * State belongs to the deps it serves (retry budgets, unfinished work, the recorder's batch): no module keeps
 * mutable state, except where one runtime instance is the module itself: the Worker entry (its deps, per
 * isolate), the phone metadata the Worker loads once per isolate, the Node entry's one-time driver patch, and
 * the backfill's parse worker (a thread entry).
 */
const MODULE_STATE_ALLOWED = new Set([
  'src/worker.ts',
  'src/worker/phone-metadata.ts',
  'src/shared/phone/metadata-runtime.ts',
  'src/node/libsql-busy-heal.ts',
  'src/backfill/parse-worker.ts',
]);

describe('no mutable state at module level', () => {
  it.each(all.filter((path) => !MODULE_STATE_ALLOWED.has(path)))('%s', (path) => {
    const text = code(path).replace(/`[^`]*`/g, '``');
    expect(text).not.toMatch(/^let\s/m);
    // A Map or Set at module level is state unless it is typed read-only.
    expect(text).not.toMatch(/^(?:export\s+)?const\s+\w+\s*=\s*new\s+(?:Map|Set|WeakMap|WeakSet)\b/m);
  });
});

describe('browser code stays in the browser', () => {
  const client = all.filter((path) => /\/client\//.test(path));
  it('has browser code to check', () => expect(client.length).toBeGreaterThan(0));
  it.each(client)('%s imports only browser code, and types', (path) => {
    for (const { target, typeOnly } of imports(path))
      if (!typeOnly) expect(target.startsWith(dirname(path)), `${path} imports ${target}`).toBe(true);
    expect(code(path)).not.toMatch(/^(?:import|export)\b[^;]*?\bfrom\s+['"](?!\.)/m);
  });
});
