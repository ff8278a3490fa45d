// The identity headers /oauth2/auth answers with, as oauth2-proxy's legacy options define them:
// --set-xauthrequest: X-Auth-Request-User (the subject), -Email, -Preferred-Username, -Groups
// (comma-joined), plus -Access-Token only when --pass-access-token is also set;
// --set-authorization-header: Authorization: Bearer <id_token>.
// Every configured header is always sent, even empty: Caddy's copy_headers passes a missing one on
// as literal placeholder text.
import type { ProxyConfig } from './config.ts';
import type { Session } from './session.ts';

export type IdentityHeaders = (session: Session) => Record<string, string>;

// Header values cannot carry CR, LF or NUL; a claim containing them must not split the response.
// Any non-ASCII text goes out as its UTF-8 bytes, as oauth2-proxy sends it: node:http writes a
// header string one byte per character (Latin-1), so the string is made of those bytes. Even 'é',
// which Latin-1 could carry, must not go out as the single byte E9, which is not UTF-8.
export const clean = (value: string): string => {
  const safe = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return /[^\u0000-\u007f]/.test(safe) ? Buffer.from(safe, 'utf8').toString('latin1') : safe;
};

export function identityHeaderWriter(config: Pick<ProxyConfig, 'setXAuthRequest' | 'passAccessToken' | 'setAuthorizationHeader'>): IdentityHeaders {
  const xAuth = config.setXAuthRequest;
  const accessToken = config.setXAuthRequest && config.passAccessToken;
  const authorization = config.setAuthorizationHeader;
  if (!xAuth && !authorization) return () => ({});
  return (session) => {
    const headers: Record<string, string> = {};
    if (xAuth) {
      headers['x-auth-request-user'] = clean(session.sub);
      headers['x-auth-request-email'] = clean(session.email);
      headers['x-auth-request-preferred-username'] = clean(session.preferredUsername);
      headers['x-auth-request-groups'] = clean(session.groups.join(','));
    }
    if (accessToken) headers['x-auth-request-access-token'] = clean(session.accessToken);
    if (authorization && session.idToken) headers.authorization = `Bearer ${clean(session.idToken)}`;
    return headers;
  };
}
