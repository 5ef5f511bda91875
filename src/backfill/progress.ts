import cliProgress from 'cli-progress';
import type { Counters } from './counters.js';

/** A bar with rate and ETA on a terminal; a plain line every few seconds otherwise (logs, CI, pipes). */
export interface Progress {
  update(counters: Counters, position: { read: number; size: number }): void;
  note(message: string): void;
  stop(): void;
}

export function createProgress(options: {
  tty: boolean;
  out: NodeJS.WritableStream;
  intervalMs?: number;
  quiet?: boolean;
  /** Time the Management API calls still need (calls so far, share of the export read). */
  apiEta?: (calls: number, fractionRead: number) => string | undefined;
}): Progress {
  const started = Date.now();
  const eta = (c: Counters, p: { read: number; size: number }) => {
    const left = options.apiEta?.(c.apiCalls, p.size > 0 ? p.read / p.size : 0);
    return left ? ` api ~${left} left` : '';
  };
  if (options.quiet) return { update: () => {}, note: () => {}, stop: () => {} };
  if (options.tty) return barProgress(options.out, started, eta);
  let last = 0;
  const interval = options.intervalMs ?? 5000;
  return {
    update(c, p) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const pct = p.size > 0 ? Math.min(100, (100 * p.read) / p.size) : 0;
      const rate = c.users / Math.max(0.001, (now - started) / 1000);
      options.out.write(
        `progress ${pct.toFixed(1)}% line ${c.lines} users ${c.users} (${Math.round(rate)}/s) links +${c.linksAdded} ~${c.linksUpdated} -${c.linksRemoved} api ${c.apiCalls} 429s ${c.throttled}${eta(c, p)} rss ${Math.round(process.memoryUsage.rss() / 1048576)} MB\n`,
      );
    },
    note: (message) => options.out.write(`${message}\n`),
    stop: () => {},
  };
}

function barProgress(
  out: NodeJS.WritableStream,
  started: number,
  eta: (c: Counters, p: { read: number; size: number }) => string,
): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: out,
      format:
        '{bar} {percentage}% | ETA {eta_formatted} | {users} users ({rate}/s) | links +{added} ~{updated} -{removed} | api {api} 429s {throttled}{apiEta}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let begun = false;
  return {
    update(c, p) {
      const payload = {
        users: c.users,
        rate: Math.round(c.users / Math.max(0.001, (Date.now() - started) / 1000)),
        added: c.linksAdded,
        updated: c.linksUpdated,
        removed: c.linksRemoved,
        api: c.apiCalls,
        throttled: c.throttled,
        apiEta: eta(c, p),
      };
      if (!begun) {
        bar.start(Math.max(1, p.size), 0, payload);
        begun = true;
      }
      bar.update(p.read, payload);
    },
    note(message) {
      if (begun) bar.stop();
      out.write(`${message}\n`);
      begun = false;
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
