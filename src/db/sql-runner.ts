import type { Client, InStatement } from '@libsql/client/web';

/**
 * How the hot path's hand-written SQL runs (src/inbound/recorder-queries.ts): one statement for its rows, or
 * several in one write transaction. Over @libsql/client (Workers, Turso, a remote database) each execute
 * sends the text and the server prepares it; the embedded Node database has its own runner that prepares
 * each statement once and reuses it (src/node/prepared-sql.ts), since @libsql/client prepares on every
 * execute and that alone cost more than running the statement.
 */

export type SqlValue = string | number | bigint | null;
export interface SqlStatement {
  sql: string;
  args: readonly SqlValue[];
}
export type SqlRow = Record<string, unknown>;

export interface SqlRunner {
  /** The rows of one statement (none for a statement that returns none). */
  all(statement: SqlStatement): Promise<SqlRow[]>;
  /** Statements in one write transaction (BEGIN IMMEDIATE … COMMIT), the rows of each. */
  writeBatch(statements: readonly SqlStatement[]): Promise<SqlRow[][]>;
}

const toIn = (s: SqlStatement): InStatement => ({ sql: s.sql, args: [...s.args] });

export function clientSqlRunner(client: Client): SqlRunner {
  return {
    async all(statement) {
      return (await client.execute(toIn(statement))).rows as unknown as SqlRow[];
    },
    async writeBatch(statements) {
      if (statements.length === 0) return [];
      if (statements.length === 1 && statements[0])
        return [(await client.execute(toIn(statements[0]))).rows as unknown as SqlRow[]];
      const results = await client.batch(statements.map(toIn), 'write');
      return results.map((r) => r.rows as unknown as SqlRow[]);
    },
  };
}
