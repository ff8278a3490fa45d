// A request on its way to an upstream is checked against --skip-auth-route by its path, and the
// upstream then reads the same request-target itself. Both must name the same resource, or a
// public-looking path reaches a private one: `/public/../private/x` matches `^/public/`, but an
// upstream (latchkey's own file upstream included) resolves it to /private/x; `/private/x#.css`
// matches `\.css$`, but an upstream that drops the fragment serves /private/x.
//
// So the path is normalised as `latchkey serve` normalises it (edge/request-path.ts): what that
// refuses is a 400 here too, and a path it changes (dot segments, `//`) is redirected to its clean
// form, as Go's ServeMux does under oauth2-proxy, so the request checked is the request served.
// The skip routes see the percent-decoded path, as oauth2-proxy matches them (url.Parse(…).Path),
// cut at an encoded "#" as its fix for CVE-2026-41059 does.
import { encodePathForLocation, normaliseRequestPath } from '../edge/request-path.ts';

export type UpstreamPath =
  | { kind: 'checked'; /** as sent, for routing and for the upstream */ path: string; /** for --skip-auth-route */ matchPath: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'invalid'; reason: string };

export function upstreamPathOf(url: string): UpstreamPath {
  const normalised = normaliseRequestPath(url);
  if (!normalised.ok) return { kind: 'invalid', reason: normalised.reason };
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  // decodes: normaliseRequestPath has accepted its percent-encoding
  const decoded = path.includes('%') ? decodeURIComponent(path) : path;
  if (normalised.pathname !== decoded) return { kind: 'redirect', location: encodePathForLocation(normalised.pathname) + normalised.query };
  const fragmentAt = decoded.indexOf('#');
  return { kind: 'checked', path, matchPath: fragmentAt < 0 ? decoded : decoded.slice(0, fragmentAt) };
}
