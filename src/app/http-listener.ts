import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from '../core/node-http.ts';
import { loadHttps } from '../core/node-https.ts';

export interface HttpListener {
  server: Server;
  host: string;
  port: number;
  /** Listening with tls: new connections get this certificate and key from now on (open ones keep theirs). */
  replaceTls: ((pair: { cert: Buffer; key: Buffer }) => void) | null;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

// Split session cookies can pass Node's 16 KiB default for all headers together (as in the proxy).
const MAX_HEADER_BYTES = 64 * 1024;
const IDLE_SWEEP_MS = 50;

/** A node:http(s) listener for one handler; port 0 picks a free port. */
export async function startListener(options: {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer } | null;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}): Promise<HttpListener> {
  const serverOptions = { maxHeaderSize: MAX_HEADER_BYTES };
  const httpsServer = options.tls ? loadHttps().createServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, options.handler) : null;
  const server: Server = httpsServer ?? createHttpServer(serverOptions, options.handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    host: options.host,
    port,
    replaceTls: httpsServer && ((pair) => httpsServer.setSecureContext({ cert: pair.cert, key: pair.key })),
    close: () => new Promise<void>((resolve, reject) => {
      // close() waits for every connection; keep-alive connections that go idle once their
      // request is answered are closed as they do, so in-flight requests finish and nothing waits for a timeout.
      const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      server.close((error) => {
        clearInterval(sweep);
        if (error) reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    }),
  };
}
