// Pocket ID 2.x's endpoint paths (its well_known_controller.go), so relying parties configured with
// explicit URLs instead of discovery keep working when latchkey replaces it. Discovery advertises
// exactly these.
export const POCKET_ID_ROUTES = {
  authorization: '/authorize',
  token: '/api/oidc/token',
  userinfo: '/api/oidc/userinfo',
  jwks: '/.well-known/jwks.json',
  end_session: '/api/oidc/end-session',
  introspection: '/api/oidc/introspect',
  revocation: '/api/oidc/revoke',
  pushed_authorization_request: '/api/oidc/par',
} as const;

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
/** RFC 8414 metadata: the same document, for OAuth clients that look here. */
export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';

export const interactionPath = (uid: string): string => `/interaction/${encodeURIComponent(uid)}`;

/** Every path prefix that belongs to oidc-provider (sub-paths: /authorize/:uid, /api/oidc/end-session/confirm …). */
export const PROVIDER_PATHS = [...Object.values(POCKET_ID_ROUTES), DISCOVERY_PATH];

const ROUTE_BY_FOLDED_PATH = new Map(Object.entries(POCKET_ID_ROUTES).map(([name, path]) => [path.toUpperCase(), name as keyof typeof POCKET_ID_ROUTES]));

/**
 * Which endpoint of POCKET_ID_ROUTES a request URL reaches, as oidc-provider's router matches it
 * (its lib/helpers/router.js): the path before the query, case-insensitively, one trailing slash
 * ignored. So /authorize/ is the authorization endpoint too: fastify hands it over as a sub-path
 * (/authorize/:uid), and oidc-provider serves it as /authorize.
 */
export function providerRouteOf(url: string): keyof typeof POCKET_ID_ROUTES | null {
  const query = url.indexOf('?');
  let path = query === -1 ? url : url.slice(0, query);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return ROUTE_BY_FOLDED_PATH.get(path.toUpperCase()) ?? null;
}
