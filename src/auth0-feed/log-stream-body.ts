/**
 * Reads a Log Stream delivery's body into items, whatever its size and Content Format. The stream's format
 * is chosen per stream: "JSON lines, arrays, or objects" (custom-log-streams.mdx, "Configure log stream");
 * the page's callout says "The payload will be delivered in JSON lines format", and no page shows an array or
 * object body or gives a batch size. So:
 * - a body up to MAX_BUFFERED_BYTES is read whole: one JSON document (an array of items; one item; or, the
 *   other reading of "JSON object", an object whose values are the items), else JSON lines;
 * - a larger body is read as JSON lines as it streams in, a line at a time, so no delivery is too large;
 *   a single JSON array that large, or a line over MAX_LINE_BYTES, is kept aside (its start) as `oversized`.
 * A line that is not JSON becomes a `bad` unit; it never spoils the lines around it.
 */

export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const MAX_LINE_BYTES = 256 * 1024;
/** Units handed on at a time while streaming. */
const UNITS_PER_YIELD = 100;
/** What an oversized unit keeps of its start. */
const OVERSIZED_PREFIX_CHARS = 4096;

export type BodyUnit =
  | { kind: 'item'; value: unknown; raw: string }
  | {
      kind: 'bad';
      reason: 'not_json' | 'unknown_shape' | 'oversized';
      detail: string;
      raw: string;
      truncated?: boolean;
    };

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function lineUnit(line: string, index: number): BodyUnit {
  try {
    return { kind: 'item', value: JSON.parse(line), raw: line };
  } catch {
    return { kind: 'bad', reason: 'not_json', detail: `line ${index} is not JSON`, raw: line };
  }
}

/** A whole body that is one JSON document or JSON lines. */
export function parseDocument(text: string): BodyUnit[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return trimmed
      .split(/\r?\n/)
      .map((line, i) => ({ line: line.trim(), i }))
      .filter(({ line }) => line !== '')
      .map(({ line, i }) => lineUnit(line, i + 1));
  }
  if (Array.isArray(parsed))
    return parsed.map((value) => ({ kind: 'item', value, raw: JSON.stringify(value) }));
  if (!isRecord(parsed))
    return [{ kind: 'bad', reason: 'unknown_shape', detail: 'neither an object nor an array', raw: trimmed }];
  const keyed = Object.values(parsed);
  const isOneItem = 'log_id' in parsed || 'data' in parsed || 'type' in parsed;
  if (!isOneItem && keyed.length > 0 && keyed.every(isRecord))
    return keyed.map((value) => ({ kind: 'item', value, raw: JSON.stringify(value) }));
  return [{ kind: 'item', value: parsed, raw: trimmed }];
}

function oversized(detail: string, start: string): BodyUnit {
  return {
    kind: 'bad',
    reason: 'oversized',
    detail,
    raw: start.slice(0, OVERSIZED_PREFIX_CHARS),
    truncated: true,
  };
}

/** Yields the body's units in batches; never buffers more than MAX_BUFFERED_BYTES (plus one line). */
export async function* readBodyUnits(body: ReadableStream<Uint8Array> | null): AsyncGenerator<BodyUnit[]> {
  if (!body) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  // Whole-body phase.
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      text += decoder.decode();
      yield parseDocument(text);
      return;
    }
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (bytes > MAX_BUFFERED_BYTES) break;
  }
  if (text.trimStart().startsWith('[')) {
    // One JSON array too large to read whole: keep its start, read the rest away.
    let total = bytes;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    yield [oversized(`a JSON array of ${total} bytes (larger than ${MAX_BUFFERED_BYTES})`, text)];
    return;
  }
  // Streaming JSON lines.
  let lineNo = 0;
  let skipping = false;
  let batch: BodyUnit[] = [];
  const take = (line: string) => {
    lineNo++;
    const trimmed = line.trim();
    if (trimmed.length > MAX_LINE_BYTES)
      batch.push(oversized(`line ${lineNo} is longer than ${MAX_LINE_BYTES} bytes`, trimmed));
    else if (trimmed !== '') batch.push(lineUnit(trimmed, lineNo));
  };
  for (;;) {
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      if (skipping) skipping = false;
      else take(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (text.length > MAX_LINE_BYTES && !skipping) {
      lineNo++;
      batch.push(oversized(`line ${lineNo} is longer than ${MAX_LINE_BYTES} bytes`, text));
      skipping = true;
    }
    if (skipping) text = '';
    if (batch.length >= UNITS_PER_YIELD) {
      yield batch;
      batch = [];
    }
    const { done, value } = await reader.read();
    if (done) {
      text += decoder.decode();
      if (!skipping) take(text);
      break;
    }
    text += decoder.decode(value, { stream: true });
  }
  if (batch.length > 0) yield batch;
}
