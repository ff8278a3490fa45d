import { type Check, fail, ok, skip } from '../check.ts';

// oauth2-proxy (and latchkey proxy) listen on 127.0.0.1:4180 by default. Inside a container that
// is the container's own loopback: the guide's published "127.0.0.1:4180:4180" leads nowhere,
// every auth_request fails and visitors get a 500.
export const composeProxyAddress: Check = {
  id: 'compose-proxy-address',
  title: 'The proxy in its container listens where the published port can reach it',
  run(ctx) {
    if (!ctx.compose) return skip('no compose file given (--compose FILE)');
    const service = ctx.composeProxy;
    if (!service) return skip('the compose file has no proxy service (oauth2-proxy image, or command "proxy")');
    if (!service.ports.length) return ok(`service "${service.name}" publishes no port (reached over the compose network only)`);
    const value = service.command.find((a) => a.startsWith('--http-address'))?.split('=')[1]
      ?? service.environment.OAUTH2_PROXY_HTTP_ADDRESS ?? '127.0.0.1:4180';
    const host = value.replace(/^https?:\/\//, '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host === '127.0.0.1' || host === 'localhost' || host === '::1')
      return fail(`service "${service.name}" listens on ${value}${service.command.some((a) => a.startsWith('--http-address')) ? '' : ' (the default)'}: the container's own loopback, so the published ${service.ports.join(', ')} reaches nothing and nginx's auth checks fail (500)`,
        `add --http-address=0.0.0.0:4180 to the "${service.name}" service's command (keep the published port bound to 127.0.0.1 on the host)`);
    return ok(`service "${service.name}" listens on ${value}`);
  },
};
