import { type Check, combine, fail, ok, skip, warn, type CheckResult } from '../check.ts';
import { inherited, isProtected, matchLocation, servers, where, type Location } from '../nginx-config.ts';

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

function checkLocation(location: Location): CheckResult {
  const name = `location ${location.modifier ? `${location.modifier} ` : ''}${location.path} (${where(location.directive)})`;
  const pages = inherited(location, 'error_page').args.filter((a) => a.slice(0, -1).includes('401'));
  if (!pages.length)
    return fail(`${name} has no error_page 401: visitors without a session get a bare "401 Authorization Required" and no way to sign in`,
      `in ${name}: error_page 401 = /oauth2/sign_in; and in location ^~ /oauth2/: proxy_set_header X-Auth-Request-Redirect $scheme://$host$request_uri; (latchkey generate nginx does this with an internal location)`);
  const target = pages[0][pages[0].length - 1];
  if (/^https?:\/\//.test(target)) {
    return /[?&]rd=/.test(target) ? ok(`${name}: error_page 401 → ${target}`)
      : warn(`${name}: error_page 401 → ${target} carries no return address: after signing in visitors land on "/"`, 'error_page 401 = /oauth2/sign_in; with proxy_set_header X-Auth-Request-Redirect $scheme://$host$request_uri; in the location that proxies it');
  }
  const landing = matchLocation(location.server, target);
  if (!returnsAddress(landing, target))
    return warn(`${name}: error_page 401 → ${target}${landing ? ` (${landing.modifier} ${landing.path}, ${where(landing.directive)})` : ''} without X-Auth-Request-Redirect or rd: after signing in visitors land on "/" instead of the page they asked for`,
      `in ${landing ? `location ${landing.modifier ? `${landing.modifier} ` : ''}${landing.path}` : `the location of ${target}`}: proxy_set_header X-Auth-Request-Redirect $scheme://$host$request_uri;`);
  return ok(`${name}: error_page 401 → ${target}, with the return address`);
}
