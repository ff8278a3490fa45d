// A TCP relay in front of PostgreSQL or Redis that a test can turn into a black hole: connections
// stay open (new ones are accepted too) and nothing more is passed in either direction, as when a
// network partition separates latchkey from its database. What a refused connection does is easy
// to test by stopping a server; this is the case that hangs. Nothing is dropped: what was sent
// waits, as TCP would keep retransmitting it, and flows again, in order, after heal().
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** From now on nothing is passed on, on open connections and new ones alike. */
  blackhole(): void;
  /** Ends every connection and refuses new ones, as a stopped server does. */
  refuse(): Promise<void>;
  /** Passes everything again (what waited first), or accepts connections again after refuse(). */
  heal(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  let passing = true;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!passing) socket.pause();
    return socket;
  };
  const relay = (client: Socket) => {
    track(client);
    const upstream = track(connect(targetPort, targetHost));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    // paused sockets emit no 'data': what arrives meanwhile waits in the socket's buffers
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
  };
  let server = createServer(relay);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let listening = true;
  const stop = () => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    listening = false;
    server.close(() => resolve());
  });
  return {
    port,
    blackhole() {
      passing = false;
      for (const socket of sockets) socket.pause();
    },
    refuse: stop,
    async heal() {
      passing = true;
      for (const socket of sockets) socket.resume();
      if (listening) return;
      server = createServer(relay);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      listening = true;
    },
    close: () => (listening ? stop() : Promise.resolve()),
  };
}
