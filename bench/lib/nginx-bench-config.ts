// The nginx side of the benchmark: one server, one location per variant, all serving the same
// 1 KB file, so the only difference between two figures is what guards the file.
export interface BenchNginxPorts {
  listen: number;
  trivialUpstream: number;
  proxy: number;
}

export function benchNginxConfig(dir: string, site: string, ports: BenchNginxPorts): string {
  // Keep-alive to the auth upstream: without it every auth subrequest opens a TCP connection.
  const upstreamKeepalive = 'proxy_http_version 1.1; proxy_set_header Connection "";';
  const authLocation = (name: string, upstream: string, extra = '') => `
    location = /_auth_${name} {
      internal;
      proxy_pass http://${upstream}/oauth2/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $host;
      ${upstreamKeepalive}
      ${extra}
    }`;
  const guarded = (prefix: string, name: string) => `
    location ^~ /${prefix}/ {
      auth_request /_auth_${name};
      auth_request_set $auth_user $upstream_http_x_auth_request_user;
      alias ${site}/private/;
    }`;
  return `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/auth-cache keys_zone=auth:1m max_size=16m inactive=60s;
  upstream trivial { server 127.0.0.1:${ports.trivialUpstream}; keepalive 64; }
  upstream latchkey { server 127.0.0.1:${ports.proxy}; keepalive 64; }
  server {
    listen 127.0.0.1:${ports.listen};
    location ^~ /public/ { alias ${site}/private/; }
    ${authLocation('trivial', 'trivial')}
    ${authLocation('proxy', 'latchkey')}
    ${authLocation('cached', 'latchkey', `proxy_cache auth; proxy_cache_key $cookie__oauth2_proxy; proxy_cache_valid 202 30s; proxy_ignore_headers Set-Cookie Cache-Control Expires;`)}
    ${guarded('p-trivial', 'trivial')}
    ${guarded('p-proxy', 'proxy')}
    ${guarded('p-cached', 'cached')}
  }
}`;
}
