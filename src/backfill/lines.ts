import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Longer lines are reported as malformed and skipped without being held in memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface InputLine {
  /** 1-based line number in the (decompressed) file. */
  number: number;
  text: string;
  /** The line was longer than MAX_LINE_BYTES; `text` is empty. */
  tooLong: boolean;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/** True when the file starts with the gzip magic bytes, whatever its name says. */
export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export interface ExportStream {
  stream: Readable;
  /** Bytes of the file on disk read so far (compressed bytes for .gz): progress against `size`. */
  position: () => number;
  size: number;
}

/** Opens an export file as a stream of bytes, gunzipping it when needed. Nothing is read whole. */
export async function openExport(path: string): Promise<ExportStream> {
  const { size } = await stat(path);
  const gzip = await isGzipFile(path);
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  let read = 0;
  raw.on('data', (chunk) => {
    read += chunk.length;
  });
  const position = () => read;
  if (!gzip) return { stream: raw, position, size };
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  raw.on('error', (error) => gunzip.destroy(error));
  return { stream: raw.pipe(gunzip), position, size };
}

/**
 * Splits a byte stream into lines. Splitting on the newline byte is safe for UTF-8 (it never occurs inside
 * a multi-byte sequence), and decoding line by line keeps memory bounded by one chunk plus one line.
 */
export async function* readLines(stream: AsyncIterable<Buffer>): AsyncGenerator<InputLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let number = 0;

  const finish = (tail: Buffer): InputLine => {
    number += 1;
    if (tooLong) {
      tooLong = false;
      pending = [];
      pendingBytes = 0;
      return { number, text: '', tooLong: true };
    }
    let bytes = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    return { number, text: bytes.toString('utf8'), tooLong: false };
  };

  for await (const chunk of stream) {
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE, start); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      const part = chunk.subarray(start, i);
      if (!tooLong && pendingBytes + part.length > MAX_LINE_BYTES) tooLong = true;
      yield finish(part);
      start = i + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (tooLong || pendingBytes + rest.length > MAX_LINE_BYTES) {
        tooLong = true;
        pending = [];
        pendingBytes = 0;
      } else {
        // Copy: the stream may reuse its buffer for the next chunk.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
  }
  if (pendingBytes > 0 || tooLong) yield finish(Buffer.alloc(0));
}
