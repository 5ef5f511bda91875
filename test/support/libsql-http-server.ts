/**
 * A libSQL server for tests: the Hrana-over-HTTP protocol that `@libsql/client/web` speaks to Turso, served
 * with `node:http` on loopback, on top of the real libSQL engine. See docs/libsql-test-server.md for why
 * this exists instead of sqld, and for what is and is not implemented.
 *
 * Start it in Node (a vitest globalSetup, a script); a Worker in workerd reaches it over its http URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import Database from 'libsql';
import { decodePipeline, ProtocolError, StmtError, type Version } from './hrana-proto.js';
import { EngineStream } from './hrana-stream.js';

export interface LibsqlHttpServerOptions {
  /** Engine database: `:memory:` (default; really a temp file, see below) or a `file:` URL. */
  url?: string;
  /** If set, pipeline requests must carry `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Default 0: any free port. */
  port?: number;
  /** An idle stream (and its open transaction) is dropped after this long. sqld: 10 s. */
  streamTimeoutMs?: number;
  /** How long a statement waits for another stream's write lock before SQLITE_BUSY. Default 5 s. */
  busyTimeoutMs?: number;
}

export interface LibsqlHttpServer {
  /** `http://127.0.0.1:PORT`, to give to `@libsql/client/web` (or to a Worker binding). */
  readonly url: string;
  /** `@libsql/client` on the same database file, to seed and inspect from the test. */
  readonly client: Client;
  /** HTTP requests received so far (every method and path). */
  readonly requests: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** sqld sends these as JSON with status 500 (a correct client can hit them, e.g. after a long pause). */
class StreamExpiredError extends Error {}

/**
 * Several streams need several connections to one database, which `:memory:` cannot give (each connection
 * would be its own empty database, and shared-cache memory has table-level locking unlike sqld). So
 * `:memory:` means a fresh temp file, deleted on close.
 */
async function resolveDatabase(url: string): Promise<{ path: string; clientUrl: string; tempDir?: string }> {
  if (url === ':memory:' || url === 'file::memory:') {
    const tempDir = await mkdtemp(join(tmpdir(), 'libsql-test-'));
    const path = join(tempDir, 'db.sqlite');
    return { path, clientUrl: `file:${path}`, tempDir };
  }
  if (!url.startsWith('file:')) throw new Error(`the engine needs a file: URL or :memory:, got ${url}`);
  const bare = url.split('?')[0] ?? url;
  const path = bare.startsWith('file://')
    ? fileURLToPath(bare)
    : decodeURIComponent(bare.slice('file:'.length));
  return { path, clientUrl: url };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  // exact `application/json`: the client only parses error bodies whose content-type equals it
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new ProtocolError('request body is too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLibsqlHttpServer(
  options: LibsqlHttpServerOptions = {},
): Promise<LibsqlHttpServer> {
  const { path, clientUrl, tempDir } = await resolveDatabase(options.url ?? ':memory:');
  const streamTimeoutMs = options.streamTimeoutMs ?? 10_000;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;

  // WAL, like sqld: readers never block the writer, and a reader keeps a consistent snapshot.
  const setup = new Database(path, { timeout: 0 });
  setup.exec('PRAGMA journal_mode=WAL');
  setup.close();
  const client = createClient({ url: clientUrl });

  let shuttingDown = false;
  let requests = 0;
  const streamOptions = { busyTimeoutMs, isShuttingDown: () => shuttingDown };
  /** Streams waiting for their next request, by the baton we handed out; a baton is good for one use. */
  const idle = new Map<string, { stream: EngineStream; timer: NodeJS.Timeout }>();
  const expired = new Set<string>();
  const live = new Set<EngineStream>();

  function acquire(baton: string | undefined): EngineStream {
    if (baton === undefined) {
      const stream = new EngineStream(path, streamOptions);
      live.add(stream);
      return stream;
    }
    const entry = idle.get(baton);
    if (entry === undefined) {
      if (expired.has(baton)) throw new StreamExpiredError('The stream has expired due to inactivity');
      // also what a reused baton gets: requests on one stream must be sequential, as in sqld
      throw new ProtocolError('Received an invalid baton');
    }
    idle.delete(baton);
    clearTimeout(entry.timer);
    return entry.stream;
  }

  function drop(stream: EngineStream): void {
    stream.close();
    live.delete(stream);
  }

  function release(stream: EngineStream): string | null {
    if (stream.closed) {
      live.delete(stream);
      return null;
    }
    const baton = randomBytes(24).toString('base64url');
    const timer = setTimeout(() => {
      // a client that went away must not hold the write lock for the rest of the test run
      idle.delete(baton);
      expired.add(baton);
      drop(stream);
    }, streamTimeoutMs);
    timer.unref();
    idle.set(baton, { stream, timer });
    return baton;
  }

  async function pipeline(req: IncomingMessage, res: ServerResponse, version: Version): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(req));
    } catch (error) {
      throw error instanceof ProtocolError ? error : new ProtocolError('request body is not valid JSON');
    }
    const body = decodePipeline(parsed, version);
    const stream = acquire(body.baton);
    const results: unknown[] = [];
    try {
      for (const request of body.requests) {
        try {
          results.push({ type: 'ok', response: await stream.handle(request) });
        } catch (error) {
          if (!(error instanceof StmtError)) throw error;
          results.push({ type: 'error', error: error.toJSON() });
        }
      }
    } catch (error) {
      drop(stream); // sqld drops the stream when a request fails at the protocol level
      throw error;
    }
    send(res, 200, 'application/json', JSON.stringify({ baton: release(stream), base_url: null, results }));
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (req.method === 'GET') {
      // `@libsql/client` 0.18 never probes (it is pinned to v2), but other Hrana clients GET these
      if (pathname === '' || pathname === '/health') return send(res, 200, 'text/plain', 'ok');
      if (pathname === '/v2' || pathname === '/v3') {
        return send(res, 200, 'text/plain', 'Hello, this is HTTP API v2 (Hrana over HTTP)');
      }
      return send(res, 404, 'text/plain', 'not found');
    }
    const match = /^\/v([23])\/pipeline$/.exec(pathname);
    if (req.method !== 'POST' || match === null) return send(res, 404, 'text/plain', 'not found');
    if (options.authToken !== undefined && req.headers.authorization !== `Bearer ${options.authToken}`) {
      req.resume();
      return send(
        res,
        401,
        'application/json',
        JSON.stringify({ error: 'Unauthorized: invalid or missing token' }),
      );
    }
    await pipeline(req, res, match[1] === '3' ? 3 : 2);
  }

  const server = createServer((req, res) => {
    requests++;
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof ProtocolError) return send(res, 400, 'text/plain', error.message);
      const code = error instanceof StreamExpiredError ? 'STREAM_EXPIRED' : 'INTERNAL_ERROR';
      const message = error instanceof Error ? error.message : String(error);
      send(res, 500, 'application/json', JSON.stringify({ message, code }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    client,
    get requests() {
      return requests;
    },
    async close() {
      shuttingDown = true;
      for (const { timer } of idle.values()) clearTimeout(timer);
      idle.clear();
      for (const stream of live) stream.close();
      live.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.close();
      if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
