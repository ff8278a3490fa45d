import { type Check, fail, ok, skip } from '../check.ts';
import { inherited, proxiesTo, servers, where } from '../nginx-config.ts';

// Failure mode 5: the proxy builds its callback URL and checks return addresses from the scheme
// nginx reports. nginx forgets every server-level proxy_set_header in a location that sets one of
// its own, so each proxied location is checked with what is in effect there.
export const nginxForwardedProto: Check = {
  id: 'nginx-forwarded-proto',
  title: 'Every proxied nginx location sends X-Forwarded-Proto',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const proxied = servers(ctx.nginx).flatMap((s) => s.locations.filter((l) => proxiesTo(l)));
    if (!proxied.length) return skip('no location in the nginx configuration has proxy_pass');
    const missing = proxied.filter((l) => !inherited(l, 'proxy_set_header').args.some((a) => a[0]?.toLowerCase() === 'x-forwarded-proto'));
    if (missing.length)
      return fail(`no X-Forwarded-Proto in ${missing.map((l) => `location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)})`).join(', ')}: the proxy behind it believes visitors use http`,
        'add to each of them: proxy_set_header X-Forwarded-Proto $scheme; (with Host $host and X-Forwarded-For $proxy_add_x_forwarded_for: a location that sets any proxy_set_header loses the server\'s)');
    return ok(`${proxied.length} proxied location(s), all send X-Forwarded-Proto`);
  },
};
