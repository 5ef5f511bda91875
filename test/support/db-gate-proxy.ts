import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP hop between `@libsql/client/web` and a real libSQL HTTP server, that a test can
 * stall (requests wait, unanswered, until opened again) or take down (connections are dropped), to
 * make a real database slow or unreachable without touching the code under test.
 */
export interface DbGateProxy {
  readonly url: string;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  stall(): void;
  down(): void;
  open(): void;
  close(): Promise<void>;
}

type Mode = 'open' | 'stall' | 'down';

export async function startDbGateProxy(target: string): Promise<DbGateProxy> {
  const upstream = new URL(target);
  let mode: Mode = 'open';
  let forwarded = 0;
  const held: (() => void)[] = [];

  function forward(req: IncomingMessage, res: ServerResponse) {
    forwarded += 1;
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  const server = createServer((req, res) => {
    if (mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode === 'stall') {
      req.pause();
      held.push(() => {
        req.resume();
        forward(req, res);
      });
      return;
    }
    forward(req, res);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    stall: () => {
      mode = 'stall';
    },
    down: () => {
      mode = 'down';
      server.closeAllConnections();
    },
    open: () => {
      mode = 'open';
      for (const release of held.splice(0)) release();
    },
    close: async () => {
      mode = 'down';
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
