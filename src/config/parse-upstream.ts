import type { Upstream } from '../proxy/config.ts';

// oauth2-proxy's --upstream forms (legacy options): `static://CODE` answers every signed-in
// request with that status; `http(s)://host[/path]` proxies to it; `file:///dir#/path` serves the
// folder at /path (without a fragment, at the folder's own path, as oauth2-proxy does).

export function parseUpstream(text: string): Upstream | { problem: string } {
  const value = text.trim();
  const staticMatch = /^static:\/\/([^/]*)\/?$/i.exec(value);
  if (staticMatch) {
    // oauth2-proxy logs an error and answers 200 for a bad code; a typo should not pass so quietly
    const statusCode = Number(staticMatch[1]);
    if (!/^\d{3}$/.test(staticMatch[1]) || statusCode < 100 || statusCode > 599) {
      return { problem: `"${text}": static:// needs an HTTP status code from 100 to 599, e.g. static://202` };
    }
    return { kind: 'static', statusCode };
  }
  if (/^file:/i.test(value)) {
    const fileMatch = /^file:\/\/(\/[^#]*)(?:#(.*))?$/i.exec(value);
    if (!fileMatch) return { problem: `"${text}": write file:///absolute/folder#/url/path` };
    const directory = decodeURIComponent(fileMatch[1]);
    const path = fileMatch[2] === undefined || fileMatch[2] === '' ? directory : fileMatch[2];
    if (!path.startsWith('/')) return { problem: `"${text}": the part after # is a URL path and must start with /` };
    return { kind: 'file', directory, path };
  }
  if (/^unix:/i.test(value)) return { problem: `"${text}": unix socket upstreams are not supported by latchkey` };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `"${text}" is not static://CODE, http(s)://host/path or file:///folder#/path` };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    return { problem: `"${text}" is not static://CODE, http(s)://host/path or file:///folder#/path` };
  }
  return { kind: 'http', url };
}
