import { type Check, ok, skip, warn } from '../check.ts';
import { argsOf, proxiesTo, servers, where } from '../nginx-config.ts';

// The guide passes the user to "the backend" with proxy_set_header in a location that serves
// static files (alias/try_files): nothing is proxied there, so the lines do nothing.
export const nginxDeadProxyHeaders: Check = {
  id: 'nginx-dead-proxy-headers',
  title: 'proxy_set_header appears only where something is proxied',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const dead = servers(ctx.nginx).flatMap((s) => s.locations)
      .filter((l) => !proxiesTo(l) && argsOf(l.directive.block, 'proxy_set_header').length && !(l.directive.block ?? []).some((d) => d.name === 'location'));
    if (!dead.length) return ok('every location with proxy_set_header proxies');
    return warn(`${dead.map((l) => `location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)}) sets ${argsOf(l.directive.block, 'proxy_set_header').map((a) => a[0]).join(', ')}`).join('; ')} but proxies nothing (static files have no backend): those lines do nothing`,
      'remove them; to record who read what, log the user instead: auth_request_set $user $upstream_http_x_auth_request_user; and $user in a log_format (with --set-xauthrequest)');
  },
};
