// oauth2-proxy's listen addresses: `host:port`, `:port` (every interface), `[::1]:port`, with an
// optional `http://` in front (case-insensitive). Unix sockets and inherited file descriptors
// (`unix://`, `fd:`) are oauth2-proxy features latchkey does not have.

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListenAddress(text: string): ListenAddress | { problem: string } {
  const trimmed = text.trim();
  if (/^(unix:\/\/|fd:)/i.test(trimmed)) return { problem: `"${text}": unix sockets and fd: addresses are not supported by latchkey; use host:port` };
  if (/^https:\/\//i.test(trimmed)) return { problem: `"${text}": latchkey listens on plain HTTP; terminate TLS in nginx or Caddy and use host:port` };
  const address = trimmed.replace(/^http:\/\//i, '').replace(/\/$/, '');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]*):(\d{1,5})$/.exec(address);
  if (!match) return { problem: `"${text}" is not host:port (e.g. 127.0.0.1:4180, :4180 or [::1]:4180)` };
  const port = Number(match[2]);
  if (port > 65535) return { problem: `"${text}": port ${port} is above 65535` };
  // Go's ":4180" listens on every interface; Node needs the address spelled out
  const host = match[1] === '' ? '0.0.0.0' : match[1].replace(/^\[|\]$/g, '');
  return { host, port };
}
