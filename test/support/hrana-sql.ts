/**
 * Just enough of SQLite's lexer to find statement boundaries and a statement's leading keyword.
 *
 * Why it exists: the engine binding (`libsql`, better-sqlite3 API) prepares only the first statement of a
 * string and silently drops the rest, whereas sqld rejects an `execute` holding several statements
 * (SQL_MANY_STATEMENTS) and runs a `sequence` one statement at a time. sqld also reports
 * `affected_row_count` only for INSERT/UPDATE/DELETE and `last_insert_rowid` only for INSERT; SQLite's
 * `changes()` is not reset by other statements, so we need the statement kind to do the same.
 */

interface Token {
  kind: 'word' | 'semi' | 'open' | 'close' | 'other';
  text: string;
  start: number;
  end: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

function* tokens(sql: string): Generator<Token> {
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charAt(i);
    const start = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql.charAt(i + 1) === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && sql.charAt(i + 1) === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      // quoted strings and identifiers may contain ';' and keywords; a doubled quote is an escape
      const quote = c === '[' ? ']' : c;
      i++;
      while (i < n) {
        if (sql.charAt(i) === quote) {
          if (quote !== ']' && sql.charAt(i + 1) === quote) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      yield { kind: 'other', text: sql.slice(start, i), start, end: i };
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql.charAt(i))) i++;
      yield { kind: 'word', text: sql.slice(start, i).toUpperCase(), start, end: i };
      continue;
    }
    i++;
    const kind = c === ';' ? 'semi' : c === '(' ? 'open' : c === ')' ? 'close' : 'other';
    yield { kind, text: c, start, end: i };
  }
}

function isCreateTrigger(words: string[]): boolean {
  const [a, b, c] = words;
  return a === 'CREATE' && (b === 'TRIGGER' || ((b === 'TEMP' || b === 'TEMPORARY') && c === 'TRIGGER'));
}

/** Splits SQL text into statements (without their `;`), skipping empty ones. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let words: string[] = [];
  let hasContent = false;
  let prev: Token | undefined;
  let prev2: Token | undefined;
  for (const token of tokens(sql)) {
    if (token.kind === 'semi') {
      // A trigger body (`BEGIN stmt; stmt; END`) holds semicolons; like sqlite3_complete(), the trigger
      // only ends at a `;` that follows an END which itself follows a `;`.
      const endsTrigger = prev?.text === 'END' && prev2?.kind === 'semi';
      const insideTrigger = hasContent && isCreateTrigger(words) && !endsTrigger;
      if (!insideTrigger) {
        if (hasContent) out.push(sql.slice(start, token.start));
        start = token.end;
        words = [];
        hasContent = false;
      }
    } else {
      hasContent = true;
      if (token.kind === 'word' && words.length < 3) words.push(token.text);
    }
    prev2 = prev;
    prev = token;
  }
  if (hasContent) out.push(sql.slice(start));
  return out;
}

export type StatementKind = 'insert' | 'update' | 'delete' | 'explain' | 'transaction' | 'other';

const MAIN_VERBS = new Set(['SELECT', 'VALUES', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE']);
const TRANSACTION_VERBS = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

/** The kind of the first statement, looking past a leading `WITH ...` common table expression. */
export function statementKind(sql: string): StatementKind {
  let depth = 0;
  let first: string | undefined;
  for (const token of tokens(sql)) {
    if (token.kind === 'open') depth++;
    else if (token.kind === 'close') depth--;
    else if (token.kind === 'semi') break;
    else if (token.kind === 'word') {
      if (first === undefined) {
        first = token.text;
        if (first !== 'WITH') return kindOf(first);
      } else if (depth === 0 && MAIN_VERBS.has(token.text)) {
        return kindOf(token.text);
      }
    }
  }
  return 'other';
}

function kindOf(verb: string): StatementKind {
  if (verb === 'INSERT' || verb === 'REPLACE') return 'insert';
  if (verb === 'UPDATE') return 'update';
  if (verb === 'DELETE') return 'delete';
  if (verb === 'EXPLAIN') return 'explain';
  return TRANSACTION_VERBS.has(verb) ? 'transaction' : 'other';
}
