/**
 * The Worker's bundle as Cloudflare will store it (`wrangler deploy --dry-run`, minified), its gzip size
 * against its budget, and what weighs most — by package, or by file inside `src/`. The static assets
 * (wrangler.toml `[assets]`: libphonenumber-js's metadata, loaded once per isolate) are listed apart: they are
 * uploaded beside the script, not in it.
 *
 *   npx tsx scripts/worker-size.ts            # report
 *   npx tsx scripts/worker-size.ts --check    # also exit 1 over budget (for CI)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { WRANGLER_OFFLINE } from './wrangler-dev.js';

/**
 * Cloudflare accepts up to 3 MiB gzipped on the Free plan and 10 MiB on paid plans; this budget is callerpop's
 * own, to keep the first request of a new isolate fast (measured by `npm run bench -- worker`). It was 150 KiB
 * until the Worker took the Auth0 Management API client (per-resource `auth0` SDK clients, a rate limiter, a
 * token cache) for the log catch-up and account actions: 200 KiB leaves room for those, not for a whole SDK.
 */
const BUDGET_KIB = 200;
const root = join(import.meta.dirname, '..');

interface Metafile {
  outputs: Record<string, { inputs?: Record<string, { bytesInOutput: number }> }>;
}

/** `node_modules/@scope/pkg/…` → `@scope/pkg`; `src/a/b.ts` → `src/a/b.ts`. */
function owner(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at === -1) return input.replace(/^(\.\.\/)+/, '');
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? input);
}

const out = mkdtempSync(join(tmpdir(), 'callerpop-worker-size-'));
try {
  execFileSync(
    join(root, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', out, '--metafile', join(out, 'meta.json')],
    { cwd: root, env: { ...process.env, ...WRANGLER_OFFLINE }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const bundle = readFileSync(join(out, 'worker.js'));
  const gzipKib = gzipSync(bundle, { level: 9 }).length / 1024;
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Metafile;
  const sizes = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      sizes.set(owner(input), (sizes.get(owner(input)) ?? 0) + bytesInOutput);
    }
  }
  console.log(
    `Worker bundle: ${(bundle.length / 1024).toFixed(1)} KiB minified, ${gzipKib.toFixed(1)} KiB gzipped (budget ${BUDGET_KIB} KiB)`,
  );
  console.log('Largest parts (minified KiB):');
  for (const [name, bytes] of [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${(bytes / 1024).toFixed(1).padStart(7)}  ${name}`);
  }
  // `wrangler deploy` ran the [build] command, which filled the assets directory.
  const assets = join(root, 'dist', 'assets');
  for (const entry of readdirSync(assets, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const name = join(entry.parentPath, entry.name).slice(assets.length + 1);
    const file = readFileSync(join(assets, name));
    console.log(
      `Static asset (not in the bundle): ${name} ${(file.length / 1024).toFixed(1)} KiB, ${(gzipSync(file, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`,
    );
  }
  if (process.argv.includes('--check') && gzipKib > BUDGET_KIB) {
    console.error(`over budget by ${(gzipKib - BUDGET_KIB).toFixed(1)} KiB`);
    process.exitCode = 1;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
