/**
 * `npm run dev:worker`: the Worker under `wrangler dev` (workerd) on http://127.0.0.1:8787.
 *
 * Configuration, first match wins: the environment, then .dev.vars (see .dev.vars.example), then — so that
 * it also runs with no configuration at all — the local development secrets the Node entry created in
 * data/dev-secrets.json. Without a DATABASE_URL it starts a local libSQL server (Turso's protocol) on
 * data/worker-dev.db; set DATABASE_URL (and DATABASE_AUTH_TOKEN) to use Turso or `npm run dev:libsql`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { loadDevSecrets } from '../src/node/dev-secrets.js';
import { DEV_SECRETS_PATH } from '../src/node/env.js';
import { startDevLibsql } from './libsql-dev-server.js';
import { startWranglerDev } from './wrangler-dev.js';

/** wrangler.toml's `[secrets] required`: wrangler dev reads these from the environment. */
function requiredSecrets(): string[] {
  const toml = readFileSync('wrangler.toml', 'utf8');
  const list = /\[secrets\][^[]*?required\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1] ?? '';
  return [...list.matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1] as string);
}

async function main() {
  const port = Number(process.env.PORT ?? 8787);
  const devVars: Record<string, string | undefined> = existsSync('.dev.vars')
    ? parseEnv(readFileSync('.dev.vars', 'utf8'))
    : {};
  const configured = (name: string) => process.env[name] || devVars[name];

  const secrets: Record<string, string> = {};
  const vars: Record<string, string> = {};
  const fallback = loadDevSecrets(DEV_SECRETS_PATH).secrets as unknown as Record<string, string>;
  for (const name of requiredSecrets()) {
    const value = configured(name) || fallback[name];
    if (value !== undefined) secrets[name] = value;
  }
  secrets.PUBLIC_BASE_URL ??= `http://127.0.0.1:${port}`;
  // A local console signs in with the ADMIN_TOKEN link unless the operator configured OIDC.
  if (!configured('AGENT_AUTH')) vars.AGENT_AUTH = 'token';

  let libsql: Awaited<ReturnType<typeof startDevLibsql>> | undefined;
  if (!secrets.DATABASE_URL) {
    libsql = await startDevLibsql({ file: process.env.LIBSQL_FILE ?? 'data/worker-dev.db' });
    secrets.DATABASE_URL = libsql.url;
    secrets.DATABASE_AUTH_TOKEN = '';
    console.log(`Local libSQL server on ${libsql.url} (data/worker-dev.db), migrations applied.`);
  }

  const dev = await startWranglerDev({ port, secrets, vars, interactive: true, timeoutMs: 120_000 });
  console.log(
    [
      '',
      `callerpop (Worker, workerd) on ${dev.url}`,
      `  Agent console: ${dev.url}/agent/login?token=${secrets.ADMIN_TOKEN}`,
      `  Database:      ${secrets.DATABASE_URL}`,
      '',
    ].join('\n'),
  );
  const shutdown = async () => {
    await dev.stop();
    await libsql?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  dev.child.once('exit', (code) => void libsql?.close().then(() => process.exit(code ?? 0)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
