// Who is on the other end of a request's connection. Over TCP that is an IP address. Over a unix
// socket (--http-address=unix://… or an inherited fd:N that is one) there is none:
// socket.remoteAddress is undefined. Such a peer is a process on this machine, allowed in by the
// socket file's permissions, so it gets the trust of loopback and no more (request-origin.ts).
//
// Node offers no public way to tell a unix-socket connection from a TCP one whose address is
// gone (a client that already hung up also reports undefined), so the listener says it: the
// proxy server marks each connection its unix-socket listener accepts (trackUnixSocketPeers).
import type { Server } from 'node:net';

const unixSocketPeers = new WeakSet<object>();

/** Marks every connection `server` accepts from now on, if (once listening) it is a unix socket. */
export function trackUnixSocketPeers(server: Server): void {
  let overUnixSocket = false;
  // 'listening' comes before any 'connection'; a pipe reports its path, or null when inherited
  server.once('listening', () => {
    const address = server.address();
    overUnixSocket = address === null || typeof address === 'string';
  });
  server.on('connection', (socket: object) => {
    if (overUnixSocket) unixSocketPeers.add(socket);
  });
}

export interface Peer {
  /** The peer's IP address; undefined over a unix socket (and for a TCP client already gone). */
  remoteAddress: string | undefined;
  /** The connection came in over the proxy's unix socket: a local process. */
  viaUnixSocket: boolean;
}

export function peerOf(socket: { remoteAddress?: string }): Peer {
  const remoteAddress = socket.remoteAddress;
  return { remoteAddress, viaUnixSocket: remoteAddress === undefined && unixSocketPeers.has(socket) };
}
