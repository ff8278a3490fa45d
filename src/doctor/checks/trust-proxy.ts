import { anyPeerTrustFinding } from '../../config/id-config.ts';
import { type Check, ok, skip, warn } from '../check.ts';
import { proxiesTo, servers } from '../nginx-config.ts';

// Failure mode 5: behind nginx, the provider sees nginx's address as every client's. latchkey id
// never takes URLs from forwarded headers, but without TRUST_PROXY its audit log and rate limits
// see one client (the proxy); Pocket ID also needs it for its URLs.
export const trustProxy: Check = {
  id: 'trust-proxy',
  title: 'TRUST_PROXY is set when the identity provider is behind a proxy',
  run(ctx) {
    if (!ctx.id) return skip("no identity provider configuration given (APP_URL in the environment, or --compose with the id's service)");
    const tlsElsewhere = ctx.id.appUrl?.protocol === 'https:'; // latchkey id itself never terminates TLS
    const nginxProxiesId = ctx.nginx ? servers(ctx.nginx).some((s) => ctx.id!.appUrl && s.names.includes(ctx.id!.appUrl.hostname) && s.locations.some((l) => proxiesTo(l))) : false;
    if (!tlsElsewhere && !nginxProxiesId) return ok('the provider is reached directly (APP_URL is not https and no nginx server proxies to it): nothing to trust');
    const value = ctx.id.env.TRUST_PROXY;
    if (ctx.id.trustProxy === false)
      return warn(`TRUST_PROXY is ${value === undefined ? 'not set' : `"${value}"`} (${ctx.id.source}) although the provider is behind a proxy: every sign-in is logged and rate-limited as coming from the proxy`,
        'TRUST_PROXY=127.0.0.1 (the address nginx connects from; in compose, the network\'s subnet, e.g. 172.30.80.0/24)');
    // `true` believes X-Forwarded-For from any peer: safe only while nothing but the reverse proxy
    // reaches the port. The guide's container got that from its published port (127.0.0.1:1411);
    // `latchkey id` run with the same variables listens on HOST, every interface by default.
    // (latchkey id logs the same warning at start)
    const anyPeer = ctx.id.fromCompose ? null : anyPeerTrustFinding(ctx.id.env, ctx.id.source);
    if (anyPeer) return warn(anyPeer.finding, anyPeer.fix);
    if (ctx.id.trustProxy === true)
      return ok(`TRUST_PROXY=${value} (any peer is believed as one proxy, whose X-Forwarded-For entry is the client: fine while the port is reachable from the proxy only; a list such as TRUST_PROXY=127.0.0.1 is safer)`);
    return ok(`TRUST_PROXY=${value}`);
  },
};
