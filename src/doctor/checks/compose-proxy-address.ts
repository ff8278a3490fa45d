import { parseHttpAddress } from '../../config/listen-address.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';

// oauth2-proxy (and latchkey proxy) listen on 127.0.0.1:4180 by default. Inside a container that
// is the container's own loopback: the guide's published "127.0.0.1:4180:4180" leads nowhere,
// every auth_request fails and visitors get a 500. A unix socket (unix://…) is not reached through
// a published port either, and fd:N needs a socket passed by systemd, which compose never does.
export const composeProxyAddress: Check = {
  id: 'compose-proxy-address',
  title: 'The proxy in its container listens where the published port can reach it',
  run(ctx) {
    if (!ctx.compose) return skip('no compose file given (--compose FILE)');
    const service = ctx.composeProxy;
    if (!service) return skip('the compose file has no proxy service (oauth2-proxy image, or command "proxy")');
    const at = service.command.findIndex((a) => a === '--http-address' || a.startsWith('--http-address='));
    const flag = at < 0 ? undefined : service.command[at].includes('=') ? service.command[at].slice(service.command[at].indexOf('=') + 1) : service.command[at + 1];
    const value = flag ?? service.environment.OAUTH2_PROXY_HTTP_ADDRESS ?? '127.0.0.1:4180';
    const address = parseHttpAddress(value);
    if ('fd' in address)
      return fail(`service "${service.name}" listens on ${value}, a socket systemd would pass; compose passes none, so the proxy cannot start`,
        `use --http-address=0.0.0.0:4180 in the "${service.name}" service's command`);
    if (!service.ports.length) return ok(`service "${service.name}" publishes no port (reached over the compose network only)`);
    if ('socketPath' in address)
      return warn(`service "${service.name}" listens on the unix socket ${value}: its published ${service.ports.join(', ')} reaches nothing`,
        `if nginx reaches the socket through a shared volume, drop the published port; otherwise use --http-address=0.0.0.0:4180`);
    const host = 'host' in address ? address.host : value.replace(/^https?:\/\//, '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host === '127.0.0.1' || host === 'localhost' || host === '::1')
      return fail(`service "${service.name}" listens on ${value}${flag ? '' : ' (the default)'}: the container's own loopback, so the published ${service.ports.join(', ')} reaches nothing and nginx's auth checks fail (500)`,
        `add --http-address=0.0.0.0:4180 to the "${service.name}" service's command (keep the published port bound to 127.0.0.1 on the host)`);
    return ok(`service "${service.name}" listens on ${value}`);
  },
};
