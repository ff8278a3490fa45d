import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

// Ports this process has handed out. A port may be handed out again once its listener is closed,
// so two calls in a row (a deployment's https and http ports) could return the same number; nginx
// then merges both listeners and refuses to start ("no ssl_certificate ...").
const handedOut = new Set<number>();

// Where ports are drawn from: just below the kernel's ephemeral range. bind(0) picks from that
// range, and so does every outgoing connection (a browser's, nginx's to its upstream, fetch's):
// between the moment a port is found free and the moment the server that wants it starts, one of
// those could take it ("address already in use"). Below the range only another freePort() can.
const EPHEMERAL_LOW = (() => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
})();
const POOL_LOW = Math.max(1024, EPHEMERAL_LOW - 12_000);

/** Whether a server can listen on 127.0.0.1:port right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** bind(0): the kernel's choice, from the ephemeral range (when the pool below it has nothing free). */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function unusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 64 && POOL_LOW < EPHEMERAL_LOW; attempt++) {
    const port = POOL_LOW + Math.floor(Math.random() * (EPHEMERAL_LOW - POOL_LOW));
    if (!handedOut.has(port) && (await bindable(port))) return port;
  }
  return kernelPort();
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

/**
 * A server (nginx, Caddy, Apache) could not bind a port that freePort() had found free: another
 * test's server took it in between. Whoever chose the ports can choose others: onFreshPorts().
 */
export class PortTakenError extends Error {}

// nginx: "bind() to 127.0.0.1:37095 failed (98: Address already in use)"; Apache: "(98)Address
// already in use: AH00072: make_sock: could not bind to address 127.0.0.1:37095"; Caddy: "listen
// tcp 127.0.0.1:37095: bind: address already in use".
const ADDRESS_IN_USE = /address already in use/i;

/** For a server that failed to start: a PortTakenError when its output says a port was taken, else `error` as it is. */
export function portTakenOr(error: unknown, output: string): unknown {
  return ADDRESS_IN_USE.test(output) ? new PortTakenError((error as Error).message, { cause: error }) : error;
}

/**
 * Runs start(attempt), which picks its ports with freePort() and starts servers on them, again
 * (on fresh ports) when it throws PortTakenError; at most `attempts` times. Any other error, and
 * the last PortTakenError, is thrown at once. start must clean up after itself when it throws.
 */
export async function onFreshPorts<T>(attempts: number, start: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(attempt);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
      const said = error.message.split('\n').find((line) => ADDRESS_IN_USE.test(line)) ?? error.message;
      process.stderr.write(`port taken, starting again on fresh ports (attempt ${attempt + 1} of ${attempts}): ${said.trim()}\n`);
    }
  }
}

/** Whether something accepts connections on 127.0.0.1:port (not which process: see the starters). */
export const portAccepts = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
  socket.on('error', () => resolve(false));
});
