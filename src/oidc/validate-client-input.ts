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
 * credentials, and plain http only for the local machine (RFC 8252 §8.3; RFC 9700 §4.1.1).
 */
export function validateClientUri(value: string, field: string): string {
  const problem = (why: string) => badRequest('invalid_redirect_uri', `${field}: "${value}" ${why}`, { fields: { [field]: 'invalid' } });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw problem('is not an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw problem('must start with https:// (or http:// for localhost).');
  if (value.includes('#')) throw problem('must not contain a fragment (#…).');
  if (url.username || url.password) throw problem('must not contain a user name or password.');
  if (url.protocol === 'http:' && !LOCAL_HOSTS.has(url.hostname)) throw problem('must use https:// unless it points to localhost or 127.0.0.1.');
  if (/\s/.test(value)) throw problem('must not contain spaces.');
  return value;
}

export function validateUriList(values: readonly string[], field: string, options: { atLeastOne: boolean }): string[] {
  if (options.atLeastOne && values.length === 0)
    throw badRequest('invalid_redirect_uri', `${field}: at least one URI is needed.`, { fields: { [field]: 'missing' } });
  return [...new Set(values.map((v) => validateClientUri(v.trim(), field)))];
}
