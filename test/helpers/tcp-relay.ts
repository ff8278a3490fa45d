// A TCP relay in front of PostgreSQL or Redis that a test can turn into a black hole: connections
// stay open (new ones are accepted too) and nothing more is passed in either direction, as when a
// network partition separates latchkey from its database. What a refused connection does is easy
// to test by stopping a server; this is the case that hangs.
import { connect, createServer, type Socket } from 'node:net';

export interface TcpRelay {
  port: number;
  /** From now on nothing is passed on, on open connections and new ones alike. */
  blackhole(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  let passing = true;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (!passing) return;
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk) => passing && upstream.write(chunk));
    upstream.on('data', (chunk) => passing && client.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    blackhole: () => void (passing = false),
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
