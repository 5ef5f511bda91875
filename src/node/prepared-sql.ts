import { createRequire } from 'node:module';
import type { SqlRow, SqlRunner, SqlStatement } from '../db/sql-runner.js';

/**
 * The embedded database's runner for the hot path: its own connection to the same file through the `libsql`
 * driver (the one @libsql/client uses underneath), where a statement is prepared once and kept. A CPU profile
 * of the webhook benchmark showed @libsql/client preparing every statement on every execute at 7.7% of the
 * server thread; the batched statements have a handful of shapes (one per batch size), so a small cache
 * holds them all.
 *
 * A write transaction starts with BEGIN IMMEDIATE: the write lock is taken first or not at all, so a busy
 * database fails that one command and leaves no statement of ours half-run.
 */

interface Statement {
  reader: boolean;
  all(args: unknown[]): SqlRow[];
  run(args: unknown[]): unknown;
}
interface Database {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  close(): void;
}

/** Distinct statements kept (the batch sizes seen); past it the oldest is dropped. */
const MAX_STATEMENTS = 256;

export interface PreparedSqlRunner extends SqlRunner {
  close(): void;
}

export function openPreparedSqlRunner(path: string, options: { busyTimeoutMs: number }): PreparedSqlRunner {
  const Driver = createRequire(import.meta.url)('libsql') as new (path: string) => Database;
  const db = new Driver(path);
  db.exec(`pragma busy_timeout = ${options.busyTimeoutMs}; pragma synchronous = normal;`);
  const statements = new Map<string, Statement>();

  const prepared = (sql: string): Statement => {
    let stmt = statements.get(sql);
    if (stmt) return stmt;
    stmt = db.prepare(sql);
    if (statements.size >= MAX_STATEMENTS) {
      const oldest = statements.keys().next().value;
      if (oldest !== undefined) statements.delete(oldest);
    }
    statements.set(sql, stmt);
    return stmt;
  };
  const run = (s: SqlStatement): SqlRow[] => {
    const stmt = prepared(s.sql);
    if (stmt.reader) return stmt.all([...s.args]);
    stmt.run([...s.args]);
    return [];
  };

  return {
    async all(statement) {
      return run(statement);
    },
    async writeBatch(list) {
      if (list.length === 0) return [];
      db.exec('BEGIN IMMEDIATE');
      try {
        const rows = list.map(run);
        db.exec('COMMIT');
        return rows;
      } catch (err) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // No transaction left to roll back (SQLite ended it itself): the first error is the one to report.
        }
        throw err;
      }
    },
    close() {
      statements.clear();
      db.close();
    },
  };
}
