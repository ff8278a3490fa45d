// Where credentials travel in URLs, in one place for everything that must keep them out of logs
// and Referer headers: latchkey id's one-time sign-in links (/lc/TOKEN, Pocket ID's shape), and the
// query parameters token= (the setup link; an application's WebSocket), code= (the authorization
// code the proxy receives) and id_token_hint= (an ID token, which names its user). Used by the
// log lines (urlForLog), latchkey id's Referrer-Policy (web/security-headers.ts), the nginx
// maps that redact access logs (deploy/nginx-parts.ts) and the Caddyfile's log filter.

/** The path of a one-time sign-in link, followed by its token. */
export const LINK_PATH = '/lc/';

/** Query parameters whose value is a credential. */
export const SECRET_QUERY_PARAMETERS = ['token', 'code', 'id_token_hint'] as const;

/** What a credential is replaced with, in every log that redacts one. */
export const REDACTED_MARK = '[redacted]';

/**
 * The secrets of a URL for a Go (RE2) regexp replacement with "$1$2" + REDACTED_MARK: a link's token in
 * $1's path, a secret parameter's value after $2. Go replaces every match, so each value goes.
 */
export const SECRETS_IN_URL_RE2 = `(?i)(${LINK_PATH})[^/?]+|([?&](?:${SECRET_QUERY_PARAMETERS.join('|')})=)[^&]*`;

const LINK_IN_PATH = /\/lc\//i;
const SECRET_PARAMETER = new RegExp(`(?:^|&)(?:${SECRET_QUERY_PARAMETERS.join('|')})=`, 'i');

const split = (url: string): { path: string; query: string | null } => {
  const mark = url.indexOf('?');
  return mark === -1 ? { path: url, query: null } : { path: url.slice(0, mark), query: url.slice(mark + 1) };
};

/** Whether a request target carries a credential: a one-time link, or a query with a secret parameter. */
export function urlHoldsSecret(url: string): boolean {
  const { path, query } = split(url);
  return LINK_IN_PATH.test(path) || (query !== null && SECRET_PARAMETER.test(query));
}

/**
 * A request's address as a log line may carry it: the path with a one-time link's token replaced
 * and no query string, which can hold anyone's credentials (any query: an application may use
 * other names than these). The request id and the error say the rest.
 */
export function urlForLog(url: string | undefined): string {
  const { path, query } = split(url ?? '/');
  return path.replace(/(\/lc\/)[^/]*/i, `$1${REDACTED_MARK}`) + (query === null ? '' : `?${REDACTED_MARK}`);
}
