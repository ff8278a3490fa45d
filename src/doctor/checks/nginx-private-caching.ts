import { type Check, ok, skip, warn } from '../check.ts';
import { inherited, isProtected, servers, where } from '../nginx-config.ts';

// A private page answered with Last-Modified and no Cache-Control may be kept by the browser
// (heuristic freshness, RFC 9111 §4.2.2) and shown again after sign-out, without asking nginx, so
// the auth check never runs. The guide's configuration sends no Cache-Control at all.
export const nginxPrivateCaching: Check = {
  id: 'nginx-private-caching',
  title: 'Private pages are not stored by browsers or shared caches',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const missing: string[] = [];
    for (const server of servers(ctx.nginx)) {
      for (const location of server.locations.filter(isProtected)) {
        const headers = inherited(location, 'add_header').args;
        const cacheControl = headers.find((h) => h[0]?.toLowerCase() === 'cache-control');
        if (!cacheControl || !/no-store/i.test(cacheControl[1] ?? '')) missing.push(`location ${location.path} (${where(location.directive)})`);
      }
    }
    if (!missing.length) return ok('every protected location sends Cache-Control: no-store');
    return warn(`${missing.join(', ')} sends no "Cache-Control: no-store": a browser may show a private page again after sign-out, and a shared cache may show it to others`,
      'add to each protected location: add_header Cache-Control "private, no-store" always;  (latchkey generate nginx does)');
  },
};
