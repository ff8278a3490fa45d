import { badRequest } from '../core/errors.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
// The guide's own id is "pocket-id-client"; RFC 6749 §A.1 allows more, but ids end up in URLs,
// logs and config files, so keep them to unreserved URL characters.
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

export function validateClientId(id: string): string {
  if (!CLIENT_ID.test(id))
    throw badRequest('invalid_client_id', 'A client ID is 1–128 letters, digits, dots, dashes, underscores or tildes, starting with a letter or digit.', { fields: { id: 'invalid' } });
  return id;
}

export function validateClientName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100)
    throw badRequest('invalid_client_name', 'A client needs a name of 1–100 characters.', { fields: { name: 'invalid' } });
  return trimmed;
}

/**
 * A URI the provider will send a browser or a logout token to. Matching is exact (RFC 9700 §4.1.3),
 * so what is stored must be a complete absolute URL: http(s), no fragment (RFC 6749 §3.1.2), no
 * credentials, no wildcard, and plain http only for the local machine (RFC 8252 §8.3; RFC 9700
 * §4.1.1). Returns it with its scheme and host as clients send them (see canonicalOrigin).
 */
export function validateClientUri(value: string, field: string): string {
  const problem = (why: string) => badRequest('invalid_redirect_uri', `${field}: "${value}" ${why}`, { fields: { [field]: 'invalid' } });
  // Pocket ID reads * as a wildcard; stored here it would be a literal that no request matches.
  if (value.includes('*'))
    throw problem('contains "*", but latchkey matches these URIs exactly and has no wildcards: list each URI the app uses instead.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw problem('is not an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw problem('must start with https:// (or http:// for localhost, 127.0.0.1 or [::1]).');
  if (value.includes('#')) throw problem('must not contain a fragment (#…).');
  if (url.username || url.password) throw problem('must not contain a user name or password.');
  if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) throw problem('must use https:// unless it points to localhost, 127.0.0.1 or [::1].');
  if (/\s/.test(value)) throw problem('must not contain spaces.');
  return canonicalOrigin(value, url);
}

/**
 * Clients send the scheme and host as URL parsers write them (lower case, without the default
 * port), and matching is exact, so `HTTP://LOCALHOST/cb` or `https://host:443/cb` as typed would
 * never match: store those parts that way. The path and query stay exactly as typed, and so does a
 * host the parser would rewrite otherwise (an IDN, another IPv6 spelling). Only new input passes
 * here: URIs already stored are never rewritten.
 */
function canonicalOrigin(value: string, url: URL): string {
  const authority = /^https?:\/\/([^/?#]*)/i.exec(value)?.[1];
  if (authority === undefined) return value;
  const defaultPort = url.protocol === 'https:' ? ':443' : ':80';
  const lower = authority.toLowerCase();
  if ((lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower) !== url.host) return value;
  return `${url.protocol}//${url.host}${value.slice(url.protocol.length + 2 + authority.length)}`;
}

export function validateUriList(values: readonly string[], field: string, options: { atLeastOne: boolean }): string[] {
  if (options.atLeastOne && values.length === 0)
    throw badRequest('invalid_redirect_uri', `${field}: at least one URI is needed.`, { fields: { [field]: 'missing' } });
  return [...new Set(values.map((v) => validateClientUri(v.trim(), field)))];
}
