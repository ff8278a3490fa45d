// The headers an http(s) upstream receives, as oauth2-proxy's legacy options send them
// (pkg/apis/options/legacy_header.go, v7 defaults): X-Forwarded-User (the subject), -Email,
// -Preferred-Username and -Groups (one line per group, as Go's Header.Add sends them; empty
// claims are left out), X-Forwarded-Access-Token with --pass-access-token, and
// Authorization: Bearer <id token> with --pass-authorization-header.
//
// A client must never be able to name the user: every identity header it sent is removed first,
// on skip-auth routes too (oauth2-proxy's --skip-auth-strip-headers, on by default and not
// configurable here). Authorization is the client's own unless --pass-authorization-header
// replaces it. X-Forwarded-For/-Proto/-Host describe the browser's request as rt.origin() saw it, so
// a client that reaches the proxy directly cannot pick them.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { ProxyConfig } from './config.ts';
import { clean as cleanHeaderValue } from './headers.ts';
import type { RequestOrigin } from './request-origin.ts';
import type { Session } from './session.ts';

// RFC 9110 §7.6.1 connection-specific fields, plus the older ones Go's ReverseProxy also drops.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

// Headers that name the user to the upstream, whoever sets them. X-Auth-Request-* are what
// /oauth2/auth answers nginx with; an app behind both setups may read them, so they go too.
const IDENTITY = /^(?:x-forwarded-(?:user|email|preferred-username|groups|access-token)|x-auth-request-.*|gap-auth)$/;

// Forwarding facts a client could invent; believed only from a --trusted-proxy-ip peer.
const FORWARDING = /^(?:forwarded|x-real-ip|x-forwarded-.*)$/;

export type UpstreamHeaderConfig = Pick<ProxyConfig, 'passAccessToken' | 'passAuthorizationHeader'>;

/** Connection-specific fields of a message (hop-by-hop set plus those its Connection header names). */
export function connectionFields(headers: IncomingHttpHeaders): Set<string> {
  const fields = new Set(HOP_BY_HOP);
  const connection = headers.connection;
  for (const token of (Array.isArray(connection) ? connection.join(',') : connection ?? '').split(',')) {
    const name = token.trim().toLowerCase();
    if (name) fields.add(name);
  }
  return fields;
}

export function upstreamRequestHeaders(
  config: UpstreamHeaderConfig,
  incoming: IncomingHttpHeaders,
  request: { remoteAddress: string | undefined; origin: RequestOrigin },
  session: Session | null,
): OutgoingHttpHeaders {
  const dropped = connectionFields(incoming);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || dropped.has(name)) continue;
    // CGI, WSGI, PHP and Rack read X_Forwarded_Email as X-Forwarded-Email (both become
    // HTTP_X_FORWARDED_EMAIL), so an underscore spelling of a protected name is that name
    // (oauth2-proxy's CVE-2025-64484). It is never believed, not even from a trusted proxy.
    const spelled = name.includes('_') ? name.replaceAll('_', '-') : name;
    if (IDENTITY.test(spelled)) continue;
    if (FORWARDING.test(spelled) && (!request.origin.proxied || spelled !== name)) continue;
    if (name === 'authorization' && config.passAuthorizationHeader) continue;
    headers[name] = value;
  }

  // A unix-socket peer has no address to add (as Go's ReverseProxy adds none for one): the chain
  // it sent is passed on as it is, never with an empty entry.
  const chain: string[] = [];
  const prior = request.origin.proxied ? incoming['x-forwarded-for'] : undefined;
  if (prior) chain.push(Array.isArray(prior) ? prior.join(', ') : prior);
  if (request.remoteAddress) chain.push(request.remoteAddress);
  if (chain.length) headers['x-forwarded-for'] = chain.join(', ');
  headers['x-forwarded-proto'] = request.origin.scheme;
  if (request.origin.host) headers['x-forwarded-host'] = request.origin.host;

  if (session) addIdentity(headers, config, session);
  return headers;
}

function addIdentity(headers: OutgoingHttpHeaders, config: UpstreamHeaderConfig, session: Session): void {
  const set = (name: string, value: string) => {
    if (value) headers[name] = cleanHeaderValue(value);
  };
  set('x-forwarded-user', session.sub);
  set('x-forwarded-email', session.email);
  set('x-forwarded-preferred-username', session.preferredUsername);
  const groups = session.groups.filter(Boolean).map(cleanHeaderValue);
  if (groups.length > 0) headers['x-forwarded-groups'] = groups;
  if (config.passAccessToken) set('x-forwarded-access-token', session.accessToken);
  if (config.passAuthorizationHeader && session.idToken) headers.authorization = `Bearer ${cleanHeaderValue(session.idToken)}`;
}
