import { maskPhone } from './phone/normalize.js';

/** Structured one-line JSON logs. Phone numbers must be masked by the caller (see maskPhone). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = 'info' | 'warn' | 'error';

export function createConsoleLogger(base: Record<string, unknown> = {}, quiet = false): Logger {
  const write = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    const line = JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...fields });
    if (level === 'error') console.error(line);
    else if (level === 'warn') console.warn(line);
    else console.log(line);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** Keeps log lines in memory: for tests that assert what was (and was not) logged. */
export function createMemoryLogger(): Logger & {
  lines: { level: Level; message: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: Level; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}

const LONG_DIGIT_RUN = /\+?\d{6,}/g;

/**
 * An error's message, safe to log: drivers quote query parameters (phone numbers) in their messages, so
 * every long run of digits is masked, and the text is capped.
 */
export function describeError(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(LONG_DIGIT_RUN, (digits) => maskPhone(digits)).slice(0, 300);
}
