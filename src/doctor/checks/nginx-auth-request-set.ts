import { type Check, fail, ok, skip, warn } from '../check.ts';
import { isProtected, servers, where } from '../nginx-config.ts';

// The guide copies X-Auth-Request-User/-Email with auth_request_set, but its proxy flags have no
// --set-xauthrequest: the variables are always empty. (Authorization needs --set-authorization-header.)
export const nginxAuthRequestSet: Check = {
  id: 'nginx-auth-request-set',
  title: 'auth_request_set reads only headers the proxy sends',
  run(ctx) {
    if (!ctx.nginx) return skip('no nginx configuration given (--nginx-config FILE, or nginx -T | latchkey doctor --nginx-t)');
    const reads = servers(ctx.nginx).flatMap((s) => s.locations.filter(isProtected).flatMap((l) =>
      (l.directive.block ?? []).filter((d) => d.name === 'auth_request_set').map((d) => ({ d, header: /\$upstream_http_([a-z0-9_]+)/i.exec(d.args[1] ?? '')?.[1]?.toLowerCase() ?? '' }))));
    const identity = reads.filter((r) => r.header.startsWith('x_auth_request_') || r.header === 'authorization');
    if (!identity.length) return ok('no auth_request_set reads identity headers');
    if (!ctx.proxy) return skip(`auth_request_set reads ${identity.map((r) => r.header).join(', ')}; whether the proxy sends them needs its options (--proxy-args …, --proxy-config FILE or --compose)`);
    const setX = ctx.proxy.raw.get('set-xauthrequest') === true;
    const setAuthorization = ctx.proxy.raw.get('set-authorization-header') === true;
    const dead = identity.filter((r) => (r.header === 'authorization' ? !setAuthorization : !setX));
    if (!dead.length) return ok(`the proxy sends every header nginx reads (${identity.map((r) => r.header).join(', ')})`);
    const text = `${dead.map((r) => `auth_request_set ${r.d.args.join(' ')} (${where(r.d)})`).join(', ')}: the proxy (${ctx.proxy.source}) does not send ${dead.some((r) => r.header === 'authorization') ? 'Authorization (no --set-authorization-header)' : 'X-Auth-Request-* (no --set-xauthrequest)'}, so the variable is always empty`;
    const fix = `add ${dead.some((r) => r.header !== 'authorization') ? '--set-xauthrequest=true' : '--set-authorization-header=true'} to the proxy, or remove those auth_request_set lines`;
    return dead.length === identity.length ? fail(text, fix) : warn(text, fix);
  },
};
