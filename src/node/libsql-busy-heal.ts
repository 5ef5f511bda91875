import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isDatabaseBusy } from '../shared/retry.js';

/**
 * Works around a bug of the native `libsql` binding (0.5.29, under @libsql/client 0.18 for `file:` URLs):
 * a statement whose run fails with SQLITE_BUSY is left "in progress" (SQLite expects a reset; the binding
 * resets only before a run), and until the garbage collector finalizes it every COMMIT on that pooled
 * connection fails with `SQLITE_BUSY: cannot commit transaction - SQL statements in progress`, although
 * the lock is long free. Measured here: after a BEGIN IMMEDIATE met another process's lock for longer than
 * busy_timeout, every later write transaction and batch on that connection failed until a GC.
 * Upstream: tursodatabase/libsql-client-ts#352, fix proposed in tursodatabase/libsql-js#237 (open).
 *
 * Here: a statement that fails busy triggers one full GC once its caller's stack has unwound (no one holds
 * the failed statement any more), at most every MIN_GAP_MS: the next try on that connection (the webhook
 * recorder's retry, the Action's or Log Stream's redelivery) finds it healed. Remove once the binding
 * resets a failed statement itself.
 */

const MIN_GAP_MS = 50;

interface StatementLike {
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
}

let installed = false;

/** Patches the binding's Statement once per process (idempotent). */
export function healStatementsAfterBusy(): void {
  if (installed) return;
  installed = true;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc !== 'function') return;
  // The module @libsql/client loads for `file:` URLs (one instance per process).
  const Database = createRequire(import.meta.url)('libsql') as new (
    path: string,
  ) => {
    prepare(sql: string): StatementLike;
    close(): void;
  };
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as StatementLike;
  probe.close();

  // A busy failure leaves its statement "in progress" until it is finalized. The collection runs before the
  // next statement of any caller (by then the failed one's stack has unwound: it is garbage), or on a
  // timer when nothing else runs. Node runs native finalizers shortly after a collection, not during it,
  // so a retry within a few milliseconds can still meet the broken connection (and gets another 503); the
  // 503 says Retry-After: 1, by which time the connection commits again.
  let pending = false;
  let scheduled = false;
  const collect = () => {
    pending = false;
    gc();
  };
  const collectSoon = () => {
    pending = true;
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      if (pending) collect();
    }, MIN_GAP_MS).unref();
  };
  for (const method of ['run', 'all'] as const) {
    const original = proto[method];
    proto[method] = function (this: StatementLike, ...args: unknown[]) {
      if (pending) collect();
      try {
        return original.apply(this, args);
      } catch (err) {
        if (isDatabaseBusy(err)) collectSoon();
        throw err;
      }
    };
  }
}
