import { type Check, combine, fail, ok, skip, warn, type CheckResult } from '../check.ts';
import { signInReturnHeader } from '../../deploy/nginx-parts.ts';
import { httpsPortOf, inherited, isProtected, matchLocation, servers, where, type Location, type Server } from '../nginx-config.ts';

// The guide has no error_page 401: a visitor without a session gets nginx's bare "401
// Authorization Required" and no way to sign in. With error_page but no return address
// (X-Auth-Request-Redirect header, rd parameter), the proxy sends them to "/" after sign-in.
export const nginxSignInOn401: Check = {
  id: 'nginx-sign-in-on-401',
  title: 'Visitors without a session are sent to sign in, and come back to the page they asked for',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const protectedLocations = servers(ctx.nginx).flatMap((s) => s.locations.filter(isProtected));
    if (!protectedLocations.length) return fail('no location in the nginx configuration has auth_request: nothing is protected', 'latchkey generate nginx --protect /private/ prints a protected configuration');
    const results = protectedLocations.map(checkLocation);
    return combine(results, results.map((r) => r.detail).join('; '));
  },
};

const returnsAddress = (location: Location | null, target: string): boolean => {
  if (/[?&]rd=/.test(target)) return true;
  if (!location) return false;
  const headers = inherited(location, 'proxy_set_header').args.map((a) => a[0]?.toLowerCase());
  if (headers.includes('x-auth-request-redirect') || headers.includes('x-forwarded-uri')) return true;
  const returns = (location.directive.block ?? []).filter((d) => d.name === 'return').map((d) => d.args.join(' '));
  return returns.some((r) => /[?&]rd=/.test(r));
};

/**
 * The return-address line to suggest: what `latchkey generate nginx` writes, for the port the
 * server takes HTTPS on. $host alone drops a port other than 443, and after signing in the
 * browser would go to 443, where nothing may listen.
 */
function returnHeader(server: Server): string {
  const port = httpsPortOf(server);
  if (port !== null) return signInReturnHeader(port);
  return 'proxy_set_header X-Auth-Request-Redirect $scheme://$host:PORT$request_uri; (PORT: the https port visitors use; for 443 leave out ":PORT")';
}

function checkLocation(location: Location): CheckResult {
  const header = returnHeader(location.server);
  const name = `location ${location.modifier ? `${location.modifier} ` : ''}${location.path} (${where(location.directive)})`;
  const pages = inherited(location, 'error_page').args.filter((a) => a.slice(0, -1).includes('401'));
  if (!pages.length)
    return fail(`${name} has no error_page 401: visitors without a session get a bare "401 Authorization Required" and no way to sign in`,
      `in ${name}: error_page 401 = /oauth2/sign_in; and in location ^~ /oauth2/: ${header} (latchkey generate nginx does this with an internal location)`);
  const target = pages[0][pages[0].length - 1];
  if (/^https?:\/\//.test(target)) {
    return /[?&]rd=/.test(target) ? ok(`${name}: error_page 401 → ${target}`)
      : warn(`${name}: error_page 401 → ${target} carries no return address: after signing in visitors land on "/"`, `error_page 401 = /oauth2/sign_in; with ${header} in the location that proxies it`);
  }
  const landing = matchLocation(location.server, target);
  if (!returnsAddress(landing, target))
    return warn(`${name}: error_page 401 → ${target}${landing ? ` (${landing.modifier} ${landing.path}, ${where(landing.directive)})` : ''} without X-Auth-Request-Redirect or rd: after signing in visitors land on "/" instead of the page they asked for`,
      `in ${landing ? `location ${landing.modifier ? `${landing.modifier} ` : ''}${landing.path}` : `the location of ${target}`}: ${header}`);
  return ok(`${name}: error_page 401 → ${target}, with the return address`);
}
