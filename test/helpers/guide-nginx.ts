// The deployment guide's Step 4 nginx configuration, verbatim, and the few edits a test may make
// to it. Each edit must match the guide's text exactly once, so a test cannot silently run a
// configuration other than the one it claims to.

/** Step 4 of the deployment guide ("Add to your existing Nginx config"), verbatim. */
export const GUIDE_STEP_4_NGINX = `# Upstream for oauth2-proxy
upstream oauth2-proxy {
    server 127.0.0.1:4180;
}

# Pocket ID (for auth provider)
server {
    listen 443 ssl http2;
    server_name id.ch3ngl0rd.com;

    ssl_certificate /etc/letsencrypt/live/ch3ngl0rd.com/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/ch3ngl0rd.com/privkey.pem;

    location / {
        proxy_pass http://127.0.0.1:1411;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}

# Protected paths on main site
server {
    listen 443 ssl http2;
    server_name agents.ch3ngl0rd.com;

    # ... existing SSL config ...

    # OAuth callback - must be publicly accessible
    location /oauth2/ {
        proxy_pass http://oauth2-proxy;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;

        # Important for large cookies
        proxy_buffer_size 128k;
        proxy_buffers 4 256k;
        proxy_busy_buffers_size 256k;
    }

    # Protected section
    location /private/ {
        auth_request /oauth2/auth;
        auth_request_set $user $upstream_http_x_auth_request_user;
        auth_request_set $email $upstream_http_x_auth_request_email;

        # Pass user info to backend if needed
        proxy_set_header X-User $user;
        proxy_set_header X-Email $email;

        # Serve static files
        alias /var/www/agents/private/;
        try_files $uri $uri/ =404;
    }

    # Public content - no auth
    location / {
        root /var/www/agents;
        try_files $uri $uri/ =404;
    }
}
`;

export interface GuideNginxTarget {
  /** The one local port nginx listens on for 443's role. */
  port: number;
  certFile: string;
  keyFile: string;
  idHost: string;
  siteHost: string;
  idPort: number;
  proxyPort: number;
  /** The Hugo build (the guide's /var/www/agents). */
  siteRoot: string;
}

/** Replaces `from` by `to`, failing unless `from` occurs exactly `times` times (no silent no-op edit). */
export function replaceExactly(text: string, from: string, to: string, times = 1): string {
  const found = text.split(from).length - 1;
  if (found !== times) throw new Error(`expected ${times} occurrence(s) of ${JSON.stringify(from)} in the nginx configuration, found ${found}`);
  return text.split(from).join(to);
}

/**
 * The guide's configuration with ONLY host names, listen ports, certificate paths, upstream ports
 * and root/alias paths changed. (The site server's "# ... existing SSL config ..." is where the
 * guide leaves its certificate lines to the reader; they are filled in there.)
 */
export function guideNginxConfig(t: GuideNginxTarget, text = GUIDE_STEP_4_NGINX): string {
  const certificate = `ssl_certificate ${t.certFile};\n    ssl_certificate_key ${t.keyFile};`;
  let conf = replaceExactly(text, 'server 127.0.0.1:4180;', `server 127.0.0.1:${t.proxyPort};`);
  conf = replaceExactly(conf, 'listen 443 ssl http2;', `listen 127.0.0.1:${t.port} ssl http2;`, 2);
  conf = replaceExactly(conf, 'server_name id.ch3ngl0rd.com;', `server_name ${t.idHost};`);
  conf = replaceExactly(conf, 'server_name agents.ch3ngl0rd.com;', `server_name ${t.siteHost};`);
  conf = replaceExactly(conf, 'ssl_certificate /etc/letsencrypt/live/ch3ngl0rd.com/fullchain.pem;\n    ssl_certificate_key /etc/letsencrypt/live/ch3ngl0rd.com/privkey.pem;', certificate);
  conf = replaceExactly(conf, '# ... existing SSL config ...', certificate);
  conf = replaceExactly(conf, 'proxy_pass http://127.0.0.1:1411;', `proxy_pass http://127.0.0.1:${t.idPort};`);
  conf = replaceExactly(conf, 'alias /var/www/agents/private/;', `alias ${t.siteRoot}/private/;`);
  return replaceExactly(conf, 'root /var/www/agents;', `root ${t.siteRoot};`);
}

/**
 * What the guide's configuration lacks for a visitor to be signed in and come back, both from
 * oauth2-proxy's own nginx documentation:
 * 1. `error_page 401 = /oauth2/sign_in;` in the private location. Without it a visitor with no
 *    session gets nginx's bare "401 Authorization Required" page and no way to sign in.
 * 2. `proxy_set_header X-Auth-Request-Redirect $request_uri;` in the /oauth2/ location. error_page
 *    is an internal redirect: the proxy is asked for /oauth2/sign_in and nothing else says which
 *    page the visitor wanted, so after sign-in they would land on "/". $request_uri still holds
 *    the original address there, and the proxy validates it as a post-sign-in redirect.
 */
export function withSignInRedirect(text = GUIDE_STEP_4_NGINX): string {
  let conf = replaceExactly(text, '        auth_request /oauth2/auth;\n', '        auth_request /oauth2/auth;\n        error_page 401 = /oauth2/sign_in;\n');
  conf = replaceExactly(conf, '        proxy_pass http://oauth2-proxy;\n', '        proxy_pass http://oauth2-proxy;\n        proxy_set_header X-Auth-Request-Redirect $request_uri;\n');
  return conf;
}

/**
 * A site owner's later addition: a regex location for feeds. (It needs its own root because the
 * guide sets root only inside `location /`.)
 */
export function withXmlLocation(text: string, siteRoot: string): string {
  return replaceExactly(text, '    # Public content - no auth\n', `    location ~* \\.xml$ {\n        root ${siteRoot};\n    }\n\n    # Public content - no auth\n`);
}

/** The fix: ^~ makes the private prefix win over every regex location. */
export function withPrivatePrefixPriority(text: string): string {
  return replaceExactly(text, 'location /private/ {', 'location ^~ /private/ {');
}
