// Which --upstream answers a request path, with oauth2-proxy's rules (pkg/upstream/proxy.go, which
// keeps Go's ServeMux behaviour): each upstream owns a path (the http(s) URL's path, the file
// upstream's #fragment, "/" for static://); a path ending in "/" owns everything under it, any
// other path only itself; the longest path wins; and a request that would match once a "/" is
// added is sent there with a 301.
import type { Upstream } from './config.ts';

export type UpstreamMatch =
  | { kind: 'upstream'; upstream: Upstream; mountPath: string }
  | { kind: 'add-slash' }
  | { kind: 'none' };

/** The path an upstream owns. An http(s) URL without a path owns "/" (the URL parser gives "/"). */
export const mountPathOf = (upstream: Upstream): string =>
  upstream.kind === 'static' ? '/' : upstream.kind === 'http' ? upstream.url.pathname : upstream.path;

export function createUpstreamRouter(upstreams: readonly Upstream[]): (path: string) => UpstreamMatch {
  // a stable sort keeps the configured order between upstreams of equal length (the first wins)
  const routes = upstreams
    .map((upstream) => ({ upstream, mountPath: mountPathOf(upstream) }))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const owns = (mountPath: string, path: string) => (mountPath.endsWith('/') ? path.startsWith(mountPath) : path === mountPath);

  return (path) => {
    const route = routes.find((r) => owns(r.mountPath, path));
    if (route) return { kind: 'upstream', upstream: route.upstream, mountPath: route.mountPath };
    if (!path.endsWith('/') && routes.some((r) => owns(r.mountPath, `${path}/`))) return { kind: 'add-slash' };
    return { kind: 'none' };
  };
}
