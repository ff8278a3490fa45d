// The nginx side of the benchmark: one server, one location per variant, all serving the same
// 1 KB file, so the only difference between two figures is what guards the file. The auth-cache
// variant uses the very lines `latchkey generate nginx --auth-cache 30s` emits.
import { authCacheHttpLines, authCacheLines } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';

export interface BenchNginxPorts {
  listen: number;
  trivialUpstream: number;
  proxy: number;
}

export const AUTH_CACHE_SECONDS = 30;

export function benchNginxConfig(dir: string, site: string, ports: BenchNginxPorts): string {
  const plan = makePlan({ authCacheSeconds: AUTH_CACHE_SECONDS, authCachePath: `${dir}/auth-cache` });
  // Keep-alive to the auth upstream, as the generator writes it (nginx-parts.ts).
  const upstreamKeepalive = 'proxy_http_version 1.1; proxy_set_header Connection "";';
  const authLocation = (name: string, upstream: string, extra: string[] = []) => `
    location = /_auth_${name} {
      internal;
      proxy_pass http://${upstream}/oauth2/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
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
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${authCacheHttpLines(plan).join('\n  ')}
  upstream trivial { server 127.0.0.1:${ports.trivialUpstream}; keepalive 16; }
  upstream latchkey { server 127.0.0.1:${ports.proxy}; keepalive 16; }
  upstream latchkey_no_keepalive { server 127.0.0.1:${ports.proxy}; }
  server {
    listen 127.0.0.1:${ports.listen};
    location ^~ /public/ { alias ${site}/private/; }
    ${authLocation('trivial', 'trivial', [upstreamKeepalive])}
    ${authLocation('proxy', 'latchkey', [upstreamKeepalive])}
    ${authLocation('proxy_no_keepalive', 'latchkey_no_keepalive')}
    ${authLocation('cached', 'latchkey', [upstreamKeepalive, ...authCacheLines(plan, 1)])}
    ${guarded('p-trivial', 'trivial')}
    ${guarded('p-proxy', 'proxy')}
    ${guarded('p-proxy-no-keepalive', 'proxy_no_keepalive')}
    ${guarded('p-cached', 'cached')}
  }
}`;
}
