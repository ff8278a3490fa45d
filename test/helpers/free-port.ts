import { createServer } from 'node:net';

// Ports this process has handed out. bind(0) may give the port it gave a moment ago once that
// listener is closed, so two calls in a row (a deployment's https and http ports) could return the
// same number; nginx then merges both listeners and refuses to start ("no ssl_certificate ...").
const handedOut = new Set<number>();

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A port that was free a moment ago and not handed out before, for servers whose URL must be known before they start. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await unusedPort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}
