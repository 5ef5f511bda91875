/**
 * One Hrana stream = one dedicated connection of the real libSQL engine (the native `libsql` binding that
 * `@libsql/client` uses for `file:` URLs). Holding a raw connection is what makes interactive transactions
 * work: `BEGIN` in one HTTP request, statements in the next, `COMMIT` in a third, exactly as sqld does.
 */
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'libsql';
import {
  type BatchStep,
  type EngineValue,
  encodeValue,
  evalCond,
  type HranaError,
  ProtocolError,
  type Stmt,
  StmtError,
  type StmtResult,
  type StreamRequest,
} from './hrana-proto.js';
import { splitStatements, statementKind } from './hrana-sql.js';

// sqld's limits on stored SQL texts (libsql-server/src/hrana/http/request.rs)
const MAX_SQL_COUNT = 50;
const MAX_STORED_SQL_BYTES = 5000;

const SQLITE_BUSY = 5;
// biome-ignore format: a lookup table reads better packed
const BASE_CODES = [
  'SQLITE_OK', 'SQLITE_ERROR', 'SQLITE_INTERNAL', 'SQLITE_PERM', 'SQLITE_ABORT', 'SQLITE_BUSY',
  'SQLITE_LOCKED', 'SQLITE_NOMEM', 'SQLITE_READONLY', 'SQLITE_INTERRUPT', 'SQLITE_IOERR', 'SQLITE_CORRUPT',
  'SQLITE_NOTFOUND', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL', 'SQLITE_EMPTY', 'SQLITE_SCHEMA',
  'SQLITE_TOOBIG', 'SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_MISUSE', 'SQLITE_NOLFS', 'SQLITE_AUTH',
  'SQLITE_FORMAT', 'SQLITE_RANGE', 'SQLITE_NOTADB',
];

export interface StreamOptions {
  /** How long a statement keeps retrying while another stream holds the write lock. */
  busyTimeoutMs: number;
  /** True once the server is shutting down: stop retrying. */
  isShuttingDown(): boolean;
}

/** sqld reports SQLite failures as "SQLite error: <message>" with the primary result code name. */
function toStmtError(error: unknown): StmtError {
  if (error instanceof StmtError) return error;
  if (error instanceof Database.SqliteError) {
    const code = BASE_CODES[(error.rawCode ?? 0) & 0xff] ?? 'SQLITE_UNKNOWN';
    return new StmtError(`SQLite error: ${error.message}`, code);
  }
  // the binding throws TypeError/RangeError for arguments it cannot bind
  return new StmtError(`Arguments do not match SQL parameters: ${String(error)}`, 'ARGS_INVALID');
}

function isBusy(error: unknown): boolean {
  // only the plain code: SQLITE_BUSY_SNAPSHOT (517) never succeeds on retry
  return error instanceof Database.SqliteError && error.rawCode === SQLITE_BUSY;
}

export class EngineStream {
  readonly #path: string;
  readonly #sqls = new Map<number, string>();
  readonly #options: StreamOptions;
  #db: Database.Database;
  #closed = false;
  /** A statement on #db gave up with SQLITE_BUSY and is still active (see #connection). */
  #poisoned = false;

  constructor(path: string, options: StreamOptions) {
    this.#path = path;
    this.#options = options;
    this.#db = EngineStream.#open(path);
  }

  static #open(path: string): Database.Database {
    // busy timeout 0: SQLite would otherwise block the whole event loop, including the request that
    // holds the lock and is about to COMMIT. We wait asynchronously instead (see #retryWhileBusy).
    return new Database(path, { timeout: 0 });
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    EngineStream.#release(this.#db);
  }

  /**
   * Roll back explicitly: `close()` in the binding does not close the SQLite connection while statement
   * objects the garbage collector has not reclaimed still point at it, so an open transaction (and the
   * write lock) would otherwise outlive the stream.
   */
  static #release(db: Database.Database): void {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  }

  /**
   * A statement that failed with SQLITE_BUSY stays active in the binding, which can neither reset nor
   * finalize it (only the garbage collector does), and SQLite then refuses every later COMMIT on the
   * connection ("SQL statements in progress"). So once the stream is outside a transaction again, such a
   * connection is swapped for a fresh one. Connection-level state (PRAGMA foreign_keys, temp tables) is
   * lost at that point; sqld, which finalizes statements, keeps it.
   */
  #connection(): Database.Database {
    if (this.#poisoned && !this.#db.inTransaction) {
      EngineStream.#release(this.#db);
      this.#db = EngineStream.#open(this.#path);
      this.#poisoned = false;
    }
    return this.#db;
  }

  async handle(request: StreamRequest): Promise<unknown> {
    // never touch a closed handle: the binding can abort the process on that
    if (this.#closed) throw new ProtocolError('The stream for this baton was closed');
    switch (request.type) {
      case 'close':
        this.close();
        return { type: 'close' };
      case 'get_autocommit':
        return { type: 'get_autocommit', is_autocommit: !this.#connection().inTransaction };
      case 'execute':
        return { type: 'execute', result: await this.#execute(request.stmt) };
      case 'batch':
        return { type: 'batch', result: await this.#batch(request.steps) };
      case 'sequence':
        await this.#sequence(this.#resolveSql(request.sql, request.sqlId));
        return { type: 'sequence' };
      case 'describe':
        return { type: 'describe', result: this.#describe(this.#resolveSql(request.sql, request.sqlId)) };
      case 'store_sql':
        if (this.#sqls.has(request.sqlId))
          throw new ProtocolError(`SQL text ${request.sqlId} already exists`);
        if (this.#sqls.size >= MAX_SQL_COUNT) {
          throw new StmtError(`The server already stores ${this.#sqls.size} SQL texts`, 'SQL_STORE_TOO_MANY');
        }
        if (Buffer.byteLength(request.sql) > MAX_STORED_SQL_BYTES) {
          throw new StmtError('The statement is too large to be stored', 'SQL_STORE_TOO_LARGE');
        }
        this.#sqls.set(request.sqlId, request.sql);
        return { type: 'store_sql' };
      case 'close_sql':
        this.#sqls.delete(request.sqlId);
        return { type: 'close_sql' };
    }
  }

  #resolveSql(sql: string | undefined, sqlId: number | undefined): string {
    if (sql !== undefined && sqlId !== undefined) throw new ProtocolError('Both sql and sql_id were given');
    if (sql !== undefined) return sql;
    if (sqlId === undefined) throw new ProtocolError('Neither sql nor sql_id was given');
    const stored = this.#sqls.get(sqlId);
    if (stored === undefined) throw new ProtocolError(`SQL text ${sqlId} was not found`);
    return stored;
  }

  async #execute(stmt: Stmt): Promise<StmtResult> {
    const sql = this.#resolveSql(stmt.sql, stmt.sqlId);
    const count = splitStatements(sql).length;
    if (count === 0) throw new StmtError('SQL string does not contain any statement', 'SQL_NO_STATEMENT');
    if (count > 1) throw new StmtError('SQL string contains more than one statement', 'SQL_MANY_STATEMENTS');
    if (stmt.args.length > 0 && stmt.namedArgs.length > 0) {
      throw new StmtError(
        'Specifying both positional and named arguments is not supported',
        'ARGS_BOTH_POSITIONAL_AND_NAMED',
      );
    }
    // the binding matches `:x`, `@x` and `$x` parameters by the bare name, as @libsql/client does
    const params: EngineValue[] | Record<string, EngineValue> =
      stmt.namedArgs.length > 0
        ? Object.fromEntries(stmt.namedArgs.map(([name, value]) => [name.replace(/^[:@$]/, ''), value]))
        : stmt.args;
    return this.#run(sql, params, stmt.wantRows);
  }

  async #run(
    sql: string,
    params: EngineValue[] | Record<string, EngineValue>,
    wantRows: boolean,
  ): Promise<StmtResult> {
    const started = performance.now();
    const db = this.#connection();
    // prepared once and re-run on every retry: re-running is the only way to reset a statement that
    // failed with SQLITE_BUSY (see #connection)
    let prepared: ReturnType<typeof db.prepare> | undefined;
    let rows: unknown[] = [];
    const statement = await this.#retryWhileBusy(() => {
      prepared ??= db.prepare(sql).safeIntegers(true);
      if (prepared.reader) rows = prepared.raw(true).all(params);
      else prepared.run(params);
      return prepared;
    });
    const cols = statement.reader ? statement.columns().map((c) => ({ name: c.name, decltype: c.type })) : [];
    // read right after the statement, bigint-safe; all() runs it to completion so it stays inactive
    const [info] = db.prepare('SELECT changes(), last_insert_rowid()').safeIntegers(true).raw(true).all([]);
    const [changes, rowid] = Array.isArray(info) ? info : [];
    const kind = statementKind(sql);
    return {
      cols,
      rows: wantRows ? rows.map((row) => (Array.isArray(row) ? row.map(encodeValue) : [])) : [],
      affected_row_count: kind === 'insert' || kind === 'update' || kind === 'delete' ? Number(changes) : 0,
      last_insert_rowid: kind === 'insert' ? String(rowid) : null,
      query_duration_ms: performance.now() - started,
    };
  }

  /**
   * sqld waits for the write lock; so do we, but without blocking the event loop, so that the stream
   * holding the lock can still be served and finish. Gives up with SQLITE_BUSY after `busyTimeoutMs`.
   */
  async #retryWhileBusy<T>(run: () => T): Promise<T> {
    const deadline = Date.now() + this.#options.busyTimeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 25)) {
      if (this.#closed) throw new StmtError('The stream was closed', 'STREAM_CLOSED');
      try {
        return run();
      } catch (error) {
        if (!isBusy(error)) throw toStmtError(error);
        if (Date.now() + delay > deadline || this.#options.isShuttingDown()) {
          this.#poisoned = true;
          throw toStmtError(error);
        }
      }
      await sleep(delay);
    }
  }

  async #batch(steps: BatchStep[]) {
    const outcomes: boolean[] = [];
    const stepResults: (StmtResult | null)[] = [];
    const stepErrors: (HranaError | null)[] = [];
    for (const step of steps) {
      const enabled =
        step.condition === undefined || evalCond(step.condition, outcomes, !this.#connection().inTransaction);
      let result: StmtResult | null = null;
      let error: HranaError | null = null;
      if (enabled) {
        try {
          result = await this.#execute(step.stmt);
        } catch (e) {
          if (!(e instanceof StmtError)) throw e;
          error = e.toJSON();
        }
      }
      outcomes.push(result !== null);
      stepResults.push(result);
      stepErrors.push(error);
    }
    return { step_results: stepResults, step_errors: stepErrors };
  }

  /** Like sqld: statement by statement, stopping at the first error. */
  async #sequence(sql: string): Promise<void> {
    for (const statement of splitStatements(sql)) await this.#run(statement, [], false);
  }

  /** Column info from the prepared statement; parameters and write access from its VDBE program. */
  #describe(sql: string) {
    let cols: StmtResult['cols'];
    try {
      const prepared = this.#connection().prepare(sql);
      cols = prepared.reader ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type })) : [];
    } catch (error) {
      throw toStmtError(error);
    }
    const kind = statementKind(sql);
    const params: { name: string | null }[] = [];
    let writes = false;
    if (kind !== 'explain') {
      for (const op of this.#connection().prepare(`EXPLAIN ${sql}`).raw(true).all([])) {
        if (!Array.isArray(op)) continue;
        const [, opcode, p1, p2, , p4] = op;
        if (opcode === 'Transaction' && p2 !== 0) writes = true;
        if (opcode === 'Variable' && typeof p1 === 'number') {
          while (params.length < p1) params.push({ name: null });
          params[p1 - 1] = { name: typeof p4 === 'string' ? p4 : null };
        }
      }
    }
    // like sqlite3_stmt_readonly(), transaction control statements count as read-only
    return { params, cols, is_explain: kind === 'explain', is_readonly: kind === 'transaction' || !writes };
  }
}
