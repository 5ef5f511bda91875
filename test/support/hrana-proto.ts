/**
 * Hrana-over-HTTP JSON messages: decoding what `@libsql/client/web` sends, encoding what it reads back.
 * Field names and error codes follow sqld (libsql-server/src/hrana), because the point of the test server
 * is that the Worker sees what it would see from Turso.
 */
import { Buffer } from 'node:buffer';

export type Version = 2 | 3;

/** Engine-side values, as the `libsql` binding takes and (with safe integers) returns them. */
export type EngineValue = null | bigint | number | string | Buffer;

export type HranaValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

export interface HranaError {
  message: string;
  code: string;
}

export interface StmtResult {
  cols: { name: string; decltype: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  query_duration_ms: number;
}

/** The request itself is malformed: sqld answers the whole HTTP request with 400 and drops the stream. */
export class ProtocolError extends Error {}

/** A statement or request failed: reported in its result slot, the pipeline goes on. */
export class StmtError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
  toJSON(): HranaError {
    return { message: this.message, code: this.code };
  }
}

export interface Stmt {
  sql: string | undefined;
  sqlId: number | undefined;
  args: EngineValue[];
  namedArgs: [string, EngineValue][];
  wantRows: boolean;
}

export type Cond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: Cond }
  | { type: 'and' | 'or'; conds: Cond[] }
  | { type: 'is_autocommit' };

export interface BatchStep {
  stmt: Stmt;
  condition: Cond | undefined;
}

export type StreamRequest =
  | { type: 'close' }
  | { type: 'get_autocommit' }
  | { type: 'execute'; stmt: Stmt }
  | { type: 'batch'; steps: BatchStep[] }
  | { type: 'sequence' | 'describe'; sql: string | undefined; sqlId: number | undefined }
  | { type: 'store_sql'; sqlId: number; sql: string }
  | { type: 'close_sql'; sqlId: number };

type Obj = Record<string, unknown>;

function obj(value: unknown, what: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what}: expected an object`);
  }
  return value as Obj;
}

function arr(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ProtocolError(`${what}: expected an array`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ProtocolError(`${what}: expected a string`);
  return value;
}

function optStr(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : str(value, what);
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ProtocolError(`${what}: expected an integer`);
  }
  return value;
}

function optInt(value: unknown, what: string): number | undefined {
  return value === undefined || value === null ? undefined : int(value, what);
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export function decodeValue(input: unknown): EngineValue {
  const v = obj(input, 'value');
  switch (v.type) {
    case 'null':
      return null;
    case 'integer': {
      // integers travel as decimal strings so that 64-bit values survive JSON
      const text = str(v.value, 'integer value');
      if (!/^-?\d+$/.test(text)) throw new ProtocolError(`invalid integer value ${JSON.stringify(text)}`);
      const n = BigInt(text);
      if (n < I64_MIN || n > I64_MAX) throw new ProtocolError('integer value out of 64-bit range');
      return n;
    }
    case 'float':
      if (typeof v.value !== 'number') throw new ProtocolError('float value: expected a number');
      return v.value;
    case 'text':
      return str(v.value, 'text value');
    case 'blob':
      return Buffer.from(str(v.base64, 'blob value'), 'base64');
    default:
      throw new ProtocolError(`unknown value type ${JSON.stringify(v.type)}`);
  }
}

export function encodeValue(value: unknown): HranaValue {
  if (value === null) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: value.toString() };
  if (typeof value === 'number') return { type: 'float', value };
  if (typeof value === 'string') return { type: 'text', value };
  if (value instanceof Uint8Array) {
    return {
      type: 'blob',
      base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
    };
  }
  throw new Error(`the engine returned an unexpected value of type ${typeof value}`);
}

function decodeStmt(input: unknown): Stmt {
  const s = obj(input, 'stmt');
  return {
    sql: optStr(s.sql, 'stmt.sql'),
    sqlId: optInt(s.sql_id, 'stmt.sql_id'),
    args: arr(s.args, 'stmt.args').map(decodeValue),
    namedArgs: arr(s.named_args, 'stmt.named_args').map((a) => {
      const named = obj(a, 'named arg');
      return [str(named.name, 'named arg name'), decodeValue(named.value)];
    }),
    // sqld: `want_rows.unwrap_or(true)`
    wantRows: s.want_rows !== false,
  };
}

function decodeCond(input: unknown, stepIndex: number, version: Version): Cond {
  const c = obj(input, 'condition');
  switch (c.type) {
    case 'ok':
    case 'error': {
      // sqld rejects conditions on the current or a later step up front (BatchCondBadStep)
      const step = int(c.step, 'condition step');
      if (step < 0 || step >= stepIndex) throw new ProtocolError('Batch condition refers to an invalid step');
      return { type: c.type, step };
    }
    case 'not':
      return { type: 'not', cond: decodeCond(c.cond, stepIndex, version) };
    case 'and':
    case 'or':
      return { type: c.type, conds: arr(c.conds, 'conds').map((x) => decodeCond(x, stepIndex, version)) };
    case 'is_autocommit':
      if (version < 3) throw new ProtocolError('is_autocommit conditions need Hrana 3 (/v3/pipeline)');
      return { type: 'is_autocommit' };
    default:
      throw new ProtocolError(`unknown condition type ${JSON.stringify(c.type)}`);
  }
}

/** Evaluates a batch condition; `outcomes[i]` is true only if step i ran and succeeded. */
export function evalCond(cond: Cond, outcomes: boolean[], isAutocommit: boolean): boolean {
  switch (cond.type) {
    case 'ok':
      return outcomes[cond.step] === true;
    case 'error':
      // sqld: `!ok`, so a skipped step counts as "error" too
      return outcomes[cond.step] !== true;
    case 'not':
      return !evalCond(cond.cond, outcomes, isAutocommit);
    case 'and':
      return cond.conds.every((c) => evalCond(c, outcomes, isAutocommit));
    case 'or':
      return cond.conds.some((c) => evalCond(c, outcomes, isAutocommit));
    case 'is_autocommit':
      return isAutocommit;
  }
}

export function decodeRequest(input: unknown, version: Version): StreamRequest {
  const r = obj(input, 'request');
  switch (r.type) {
    case 'close':
      return { type: 'close' };
    case 'get_autocommit':
      if (version < 3) throw new ProtocolError('get_autocommit needs Hrana 3 (/v3/pipeline)');
      return { type: 'get_autocommit' };
    case 'execute':
      return { type: 'execute', stmt: decodeStmt(r.stmt) };
    case 'batch':
      return {
        type: 'batch',
        steps: arr(obj(r.batch, 'batch').steps, 'batch.steps').map((input, i) => {
          const step = obj(input, 'batch step');
          const condition = step.condition == null ? undefined : decodeCond(step.condition, i, version);
          return { stmt: decodeStmt(step.stmt), condition };
        }),
      };
    case 'sequence':
    case 'describe':
      return { type: r.type, sql: optStr(r.sql, 'sql'), sqlId: optInt(r.sql_id, 'sql_id') };
    case 'store_sql':
      return { type: 'store_sql', sqlId: int(r.sql_id, 'sql_id'), sql: str(r.sql, 'sql') };
    case 'close_sql':
      return { type: 'close_sql', sqlId: int(r.sql_id, 'sql_id') };
    default:
      throw new ProtocolError(`unknown request type ${JSON.stringify(r.type)}`);
  }
}

export function decodePipeline(input: unknown, version: Version) {
  const body = obj(input, 'pipeline body');
  return {
    baton: optStr(body.baton, 'baton'),
    requests: arr(body.requests, 'requests').map((r) => decodeRequest(r, version)),
  };
}
