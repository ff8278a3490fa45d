// oauth2-proxy's listen addresses: `host:port`, `:port` (every interface), `[::1]:port`, with an
// optional `http://` in front (case-insensitive). `latchkey proxy --http-address` also takes its
// other two forms (parseHttpAddress): `unix:///abs/path.sock[,mode=0660]` and `fd:N`; every other
// listener (serve, metrics) is TCP only.
import { isIP } from 'node:net';
import type { HttpAddress } from '../proxy/config.ts';

// Labels of letters, digits, '-' and '_' (container names have underscores), dot-separated.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_][a-z0-9_-]{0,62}(?:\.[a-z0-9_][a-z0-9_-]{0,62})*$/i;

/**
 * Why `host` cannot be listened on, or null: an IP address (IPv6 with or without brackets) or a
 * host name. Checked with the rest of the configuration, because listen() finds out only after the
 * database was opened and migrated, and then with a stack trace (999.1.1.1 becomes a DNS lookup).
 */
export function listenHostProblem(host: string): string | null {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return null;
  if (/^[\d.]+$/.test(bare)) return `"${host}" is not an IPv4 address (four numbers from 0 to 255, e.g. 127.0.0.1)`;
  if (bare.includes(':')) return `"${host}" is not an IPv6 address (e.g. ::1 or ::)`;
  if (!HOST_NAME.test(bare)) return `"${host}" is not an IP address or host name (e.g. 127.0.0.1, 0.0.0.0 or localhost)`;
  return null;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(text: string): ListenAddress | { problem: string } {
  const trimmed = text.trim();
  if (/^(unix:\/\/|fd:)/i.test(trimmed)) return { problem: `"${text}": unix sockets and fd: addresses are only for latchkey proxy's --http-address; use host:port` };
  if (/^https:\/\//i.test(trimmed)) return { problem: `"${text}": latchkey listens on plain HTTP; terminate TLS in nginx or Caddy and use host:port` };
  const address = trimmed.replace(/^http:\/\//i, '').replace(/\/$/, '');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]*):(\d{1,5})$/.exec(address);
  if (!match) return { problem: `"${text}" is not host:port (e.g. 127.0.0.1:4180, :4180 or [::1]:4180)` };
  const port = Number(match[2]);
  if (port > 65535) return { problem: `"${text}": port ${port} is above 65535` };
  // Go's ":4180" listens on every interface; Node needs the address spelled out
  const host = match[1] === '' ? '0.0.0.0' : match[1].replace(/^\[|\]$/g, '');
  const hostProblem = listenHostProblem(host);
  if (hostProblem) return { problem: `"${text}": ${hostProblem}` };
  return { host, port };
}

/** Linux keeps a unix socket's path in 108 bytes, the last one a NUL (unix(7), sun_path). */
const MAX_SOCKET_PATH_BYTES = 107;
/**
 * Read and write for the proxy's user and group, nothing for others: nginx connects when its
 * workers' user (www-data) is in that group. Connecting needs write permission on the socket.
 */
export const DEFAULT_SOCKET_MODE = 0o660;

/**
 * `--http-address`: a TCP address as above, `unix:///abs/path.sock` with oauth2-proxy's optional
 * `,mode=0660` (octal), or `fd:N`, a listening socket inherited from systemd (N >= 3; 0-2 are the
 * standard streams). Problems say what to write instead.
 */
export function parseHttpAddress(text: string): HttpAddress | { problem: string } {
  const trimmed = text.trim();
  const fd = /^fd:(.*)$/is.exec(trimmed);
  if (fd) {
    if (!/^\d{1,9}$/.test(fd[1])) return { problem: `"${text}": fd: takes a file descriptor number, e.g. fd:3 (systemd passes its first socket as 3)` };
    const number = Number(fd[1]);
    if (number < 3) return { problem: `"${text}": file descriptors 0, 1 and 2 are stdin, stdout and stderr; systemd passes its first socket as fd:3` };
    return { fd: number };
  }
  const unix = /^unix:\/\/(.*)$/is.exec(trimmed);
  if (!unix) return parseListenAddress(text);
  const [path, ...options] = unix[1].split(',');
  const problems: string[] = [];
  if (!path.startsWith('/')) problems.push(`the socket path must be absolute, e.g. unix:///run/latchkey/proxy.sock (three slashes)`);
  else if (path.endsWith('/')) problems.push('the socket path names a folder; add the file name, e.g. /run/latchkey/proxy.sock');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) problems.push(`the socket path is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}`);
  let socketMode = DEFAULT_SOCKET_MODE;
  for (const option of options) {
    const [name, value] = option.trim().split('=', 2);
    if (name !== 'mode') problems.push(`"${option}" is not a socket option; the only one is mode=, in octal (e.g. ,mode=0660)`);
    else if (!/^0?[0-7]{3}$/.test(value ?? '')) problems.push(`"${option}": the mode is octal permission bits from 000 to 0777, e.g. mode=0660`);
    else socketMode = parseInt(value, 8);
  }
  if (problems.length) return { problem: `"${text}": ${problems.join('; ')}` };
  return { socketPath: path, socketMode };
}
