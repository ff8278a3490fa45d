// The nginx side of the benchmark: one server, one location per variant, all serving the same
// 1 KB file, so the only difference between two figures is what guards the file. The auth-cache
// variants use the very lines `latchkey generate nginx --auth-cache 30s [--auth-cache-engine lua]`
// emits, and reach the proxy over its unix socket as `--proxy-socket` sets it up (the Lua engine
// connects to it from its check, with no auth location).
import { authCacheHttpLines, authCacheLines, luaAccessLines } from '../../src/deploy/nginx-config.ts';
import { luaLoadModuleLines } from '../../src/deploy/nginx-auth-cache.ts';
import { authCheckRequestHeaders } from '../../src/deploy/nginx-parts.ts';
import { makePlan } from '../../src/deploy/plan.ts';

export interface BenchNginxAddresses {
  listen: number;
  /** The trivial 202 server, on TCP and on a unix socket. */
  trivialPort: number;
  trivialSocket: string;
  /** A Node process answering every request with a canned 202, without parsing HTTP (unix socket). */
  cannedSocket: string;
  /** latchkey proxy, one process on TCP and one on a unix socket. */
  proxyPort: number;
  proxySocket: string;
}

export const AUTH_CACHE_SECONDS = 30;

export function benchNginxConfig(dir: string, site: string, to: BenchNginxAddresses): string {
  const filesCache = makePlan({ authCacheSeconds: AUTH_CACHE_SECONDS, authCachePath: `${dir}/auth-cache` });
  const luaCache = makePlan({ authCacheSeconds: AUTH_CACHE_SECONDS, authCacheEngine: 'lua', proxySocket: to.proxySocket });
  // Keep-alive to the auth upstream, as the generator writes it (nginx-parts.ts).
  const upstreamKeepalive = 'proxy_http_version 1.1; proxy_set_header Connection "";';
  // Every auth location passes on only the cookie, as the generated one does (lever 36), but the
  // one that plays a hand-written location (the guide's), which passes every header of the visitor's.
  const authLocation = (uri: string, upstream: string, extra: string[] = [], requestHeaders = authCheckRequestHeaders) => `
    location = ${uri} {
      internal;
      proxy_pass http://${upstream}/oauth2/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      ${requestHeaders.join('\n      ')}
      proxy_set_header Host $host;
      ${extra.join('\n      ')}
    }`;
  const guarded = (prefix: string, name: string) => `
    location ^~ /${prefix}/ {
      auth_request /_auth_${name};
      auth_request_set $auth_user $upstream_http_x_auth_request_user;
      alias ${site}/private/;
    }`;
  // Debian's nginx.conf (and so the guide's setup) runs one worker per core; a single worker would
  // make nginx's own subrequest work the bottleneck of every guarded variant and understate them.
  return `
daemon off;
worker_processes auto;
${luaLoadModuleLines().join('\n')}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${authCacheHttpLines(filesCache).join('\n  ')}
  ${authCacheHttpLines(luaCache).join('\n  ')}
  upstream trivial { server 127.0.0.1:${to.trivialPort}; keepalive 16; }
  upstream trivial_socket { server unix:${to.trivialSocket}; keepalive 16; }
  upstream canned_socket { server unix:${to.cannedSocket}; keepalive 16; }
  upstream latchkey { server 127.0.0.1:${to.proxyPort}; keepalive 16; }
  upstream latchkey_socket { server unix:${to.proxySocket}; keepalive 16; }
  upstream latchkey_no_keepalive { server 127.0.0.1:${to.proxyPort}; }
  server {
    listen 127.0.0.1:${to.listen};
    location ^~ /public/ { alias ${site}/private/; }
    ${authLocation('/_auth_trivial', 'trivial', [upstreamKeepalive])}
    ${authLocation('/_auth_trivial_socket', 'trivial_socket', [upstreamKeepalive])}
    ${authLocation('/_auth_canned_socket', 'canned_socket', [upstreamKeepalive])}
    ${authLocation('/_auth_proxy', 'latchkey', [upstreamKeepalive])}
    ${authLocation('/_auth_proxy_socket', 'latchkey_socket', [upstreamKeepalive])}
    ${authLocation('/_auth_proxy_socket_all_headers', 'latchkey_socket', [upstreamKeepalive], [])}
    ${authLocation('/_auth_proxy_no_keepalive', 'latchkey_no_keepalive')}
    ${authLocation('/_auth_cached', 'latchkey_socket', [upstreamKeepalive, ...authCacheLines(filesCache, 1)])}
    ${guarded('p-trivial', 'trivial')}
    ${guarded('p-trivial-socket', 'trivial_socket')}
    ${guarded('p-canned-socket', 'canned_socket')}
    ${guarded('p-proxy', 'proxy')}
    ${guarded('p-proxy-socket', 'proxy_socket')}
    ${guarded('p-proxy-socket-all-headers', 'proxy_socket_all_headers')}
    ${guarded('p-proxy-no-keepalive', 'proxy_no_keepalive')}
    ${guarded('p-cached', 'cached')}
    location ^~ /p-lua/ {
      ${luaAccessLines(luaCache, 1).filter((line) => !line.startsWith('#')).join('\n      ')}
      alias ${site}/private/;
    }
  }
}`;
}
