import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Starts `wrangler dev` (workerd, the runtime Cloudflare runs) on 127.0.0.1 — it listens on IPv4 only — and
 * resolves once it answers. Shared by `npm run dev:worker` and the Worker bench.
 */

const root = join(import.meta.dirname, '..');
/** Without these wrangler reaches for the internet on every start. */
export const WRANGLER_OFFLINE = { CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' };

export interface WranglerDevOptions {
  port: number;
  /** Secrets listed in wrangler.toml's `secrets.required` are read from the environment. */
  secrets?: Record<string, string>;
  /** Everything else goes in as `--var NAME:VALUE`. */
  vars?: Record<string, string>;
  /** Inherit stdio (interactive) instead of capturing it (bench). */
  interactive?: boolean;
  /** How long to wait for the first answer. */
  timeoutMs?: number;
  /**
   * `http` (default): ready once GET /healthz answers. `output`: once wrangler prints "Ready on", without
   * sending the app a request (the bench measures the first request itself). Needs captured output.
   */
  readiness?: 'http' | 'output';
}

export interface WranglerDev {
  url: string;
  child: ChildProcess;
  /** What wrangler printed so far (when not interactive). */
  output(): string;
  stop(): Promise<void>;
}

export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const args = [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--show-interactive-dev-session=false',
  ];
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push('--var', `${name}:${value}`);
  const child = spawn(join(root, 'node_modules/.bin/wrangler'), args, {
    cwd: root,
    env: { ...process.env, ...WRANGLER_OFFLINE, ...options.secrets },
    stdio: options.interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    detached: !options.interactive,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = `http://127.0.0.1:${options.port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // wrangler starts workerd as its own child: signal the whole group.
    try {
      if (child.pid !== undefined && !options.interactive) process.kill(-child.pid, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    try {
      if (options.readiness === 'output') {
        if (output.includes('Ready on')) return { url, child, output: () => output, stop };
        throw new Error('not ready');
      }
      await fetch(`${url}/healthz`);
      return { url, child, output: () => output, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`wrangler dev did not answer on ${url} within the deadline:\n${output}`);
}
