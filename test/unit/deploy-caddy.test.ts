import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateCaddyfile } from '../../src/deploy/caddyfile.ts';
import { makePlan } from '../../src/deploy/plan.ts';

const family = makePlan({ protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'admins'] }] });
const caddyfile = generateCaddyfile(family);
const siteBlock = caddyfile.slice(caddyfile.indexOf('agents.example.com {'));
const routeBlock = siteBlock.slice(siteBlock.indexOf('\troute {'));

describe('generateCaddyfile', () => {
  it('checks protected paths inside route {}, before file_server', () => {
    assert.ok(routeBlock.indexOf('reverse_proxy @protected1') > 0);
    assert.ok(routeBlock.indexOf('reverse_proxy @protected1') < routeBlock.indexOf('file_server'));
    assert.ok(routeBlock.indexOf('reverse_proxy /oauth2/* 127.0.0.1:4180') < routeBlock.indexOf('reverse_proxy @protected1'));
  });

  it('asks /oauth2/auth with GET, naming the page and method, and each prefix\'s groups as allowed_groups', () => {
    const ask = (groups: string) => new RegExp(`reverse_proxy @protected\\d 127\\.0\\.0\\.1:4180 \\{\\n\\t+method GET\\n\\t+rewrite /oauth2/auth${groups}\\n\\t+header_up X-Forwarded-Method \\{method\\}\\n\\t+header_up X-Forwarded-Uri \\{uri\\}\\n`);
    assert.match(routeBlock, ask('\\?allowed_groups=family,admins'));
    assert.match(routeBlock, ask(''));
  });

  it('passes a refreshed session\'s Set-Cookie to the visitor with the file (forward_auth would drop it)', () => {
    const allowed = routeBlock.slice(routeBlock.indexOf('@allowed status 2xx'), routeBlock.indexOf('@unauthorized status 401'));
    assert.match(allowed, /handle_response @allowed \{\n\t+request_header X-Auth-Request-User \{rp\.header\.X-Auth-Request-User\}\n\t+copy_response_headers \{\n\t+include Set-Cookie\n\t+\}\n\t+\}\n/);
    assert.doesNotMatch(routeBlock, /forward_auth/);
  });

  it('lets the longest prefix decide, as nginx and latchkey serve do', () => {
    assert.match(siteBlock, /@protected1 \{\n\t+path \/private\/\* \/private\n\t+not path \/private\/family\/\* \/private\/family\n/);
  });

  it('answers a 403 with a page that names none of the prefix\'s groups', () => {
    const respond = /handle_response @forbidden \{[^}]*respond `([^`]*)` 403/.exec(routeBlock);
    assert.ok(respond);
    assert.match(respond[1], /your account does not have access here/);
    assert.doesNotMatch(respond[1], /(?<!font-)family|admins/); // font-family is CSS
  });

  it('copies only X-Auth-Request-User, the header the proxy always sends, onto the request', () => {
    const copied = [...caddyfile.matchAll(/request_header (\S+) \{rp\.header\.(\S+)\}/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual([...new Set(copied)], ['X-Auth-Request-User=X-Auth-Request-User']);
  });

  it('shows the sign-in on 401 with the original address, port included ({hostport})', () => {
    assert.match(routeBlock, /@unauthorized status 401\n\t+handle_response @unauthorized \{\n\t+rewrite \* \/oauth2\/sign_in\?\n\t+request_header X-Auth-Request-Redirect \{scheme\}:\/\/\{hostport\}\{http\.request\.orig_uri\}/);
    assert.doesNotMatch(caddyfile, /\{host\}/);
    assert.doesNotMatch(generateCaddyfile(makePlan({ httpsPort: 8443 })).replace(/redir https:\/\/\{host\}:8443/, ''), /\{host\}/);
  });

  it('reverse-proxies the id host to latchkey id', () => {
    assert.match(caddyfile, /^id\.example\.com \{\n[^}]*reverse_proxy 127\.0\.0\.1:1411\n\}/m);
  });

  it('lets Caddy manage certificates unless certificate files are given', () => {
    assert.doesNotMatch(caddyfile, /\btls /);
    assert.match(generateCaddyfile(makePlan({ tls: { certificate: '/etc/ssl/site.pem', key: '/etc/ssl/site.key' } })), /tls \/etc\/ssl\/site\.pem \/etc\/ssl\/site\.key/);
  });

  it('refuses dotfiles first in the route, as latchkey serve does, but for /.well-known/ at the top, and says what to do about symlinks', () => {
    for (const text of [caddyfile, generateCaddyfile(makePlan({ public: true }))]) {
      const site = text.slice(text.indexOf('agents.example.com {'));
      assert.match(site, /@hidden \{\n\t+path_regexp \^\/\(\?:\[\^\/\]\*\/\)\*\\\.\n\t+not path_regexp \^\/\\\.well-known\(\?:\/\[\^\.\/\]\[\^\/\]\*\)\*\/\?\$\n\t+\}/);
      assert.match(site, /\troute \{\n\t+error @hidden 404\n/);
      assert.match(site.replace(/\n\t# /g, ' '), /SYMLINKS: Caddy follows every symlink .* `find \/var\/www\/agents -type l` must print nothing/);
    }
    // what the two regular expressions (Go's RE2; these read the same in JavaScript) let through
    const [hidden, wellKnown] = [/^\/(?:[^/]*\/)*\./, /^\/\.well-known(?:\/[^./][^/]*)*\/?$/];
    const refused = (path: string) => hidden.test(path) && !wellKnown.test(path);
    for (const path of ['/.git/config', '/.env', '/a/.env', '/.well-known/.x', '/.well-known/a/.b', '/.well-knownx']) assert.ok(refused(path), path);
    for (const path of ['/', '/a.b', '/a/b.c/d', '/.well-known', '/.well-known/security.txt', '/.well-known/acme-challenge/x.y']) assert.ok(!refused(path), path);
  });

  it('serves everything publicly, and says so, for the rollback', () => {
    const rollback = generateCaddyfile(makePlan({ public: true }));
    assert.doesNotMatch(rollback, /reverse_proxy|oauth2|id\.example\.com \{/);
    assert.match(rollback, /no authentication/);
  });

  it('sends both hosts to latchkey serve with --single', () => {
    assert.match(generateCaddyfile(makePlan({ single: true })), /agents\.example\.com, id\.example\.com \{[^}]*reverse_proxy 127\.0\.0\.1:8080/);
  });

  it('writes no access log, which would record the whole URI: sign-in link tokens, setup tokens, codes', () => {
    // docs/reverse-proxies.md shows the filter to use with a log of one's own; the one log line is Caddy's own log, below
    for (const plan of [makePlan(), makePlan({ single: true }), makePlan({ public: true }), makePlan({ httpsPort: 8443 })])
      assert.deepEqual(generateCaddyfile(plan).match(/^\s*log\b.*$/gm), ['\tlog {']);
  });

  it('filters every secret of a URI and a Referer out of Caddy\'s own log, which holds each request that failed upstream', () => {
    for (const plan of [makePlan(), makePlan({ single: true }), makePlan({ public: true }), makePlan({ httpsPort: 8443, httpPort: 8080 })]) {
      const global = /^\{\n((?:\t.*\n)+)\}\n/m.exec(generateCaddyfile(plan))?.[1] ?? '';
      assert.match(global, /^\tlog \{\n\t\tformat filter \{\n\t\t\twrap json\n\t\t\tfields \{\n\t\t\t\trequest>uri regexp "(.+)" "\$1\$2\[redacted\]"\n\t\t\t\trequest>headers>Referer regexp "\1" "\$1\$2\[redacted\]"\n/m);
    }
    // the pattern, as Go's regexp would apply it (RE2's (?i) is JavaScript's i flag; both replace every match)
    const [, pattern] = /request>uri regexp "(.+?)" /.exec(generateCaddyfile(makePlan()))!;
    const redact = (uri: string) => uri.replace(new RegExp(pattern.replace('(?i)', ''), 'gi'), '$1$2[redacted]');
    for (const [uri, logged] of [
      ['/lc/abc123', '/lc/[redacted]'],
      ['/LC/abc123?utm=1', '/LC/[redacted]?utm=1'],
      ['/setup?token=abc&lang=en', '/setup?token=[redacted]&lang=en'],
      ['/oauth2/callback?state=s&code=abc&iss=x', '/oauth2/callback?state=s&code=[redacted]&iss=x'],
      ['/authorize?id_token_hint=a.b.c&token=d', '/authorize?id_token_hint=[redacted]&token=[redacted]'],
      ['/private/page?tokens=1&xcode=2', '/private/page?tokens=1&xcode=2'],
    ]) assert.equal(redact(uri), logged, uri);
  });
});

describe('generateCaddyfile with an https port other than 443', () => {
  const redirectBlock = (plan: Parameters<typeof generateCaddyfile>[0]) => /^(http:\/\/.+) \{\n((?:\t.*\n)+)\}/m.exec(generateCaddyfile(plan));

  it('redirects plain HTTP to that port, which Caddy\'s own redirect would drop', () => {
    const block = redirectBlock(makePlan({ httpsPort: 8443, httpPort: 8080 }));
    assert.equal(block?.[1], 'http://agents.example.com, http://id.example.com');
    assert.equal(block?.[2], '\tredir https://{host}:8443{uri} 308\n');
  });

  it('binds the redirect to the listen address, and covers only the hosts the file serves', () => {
    assert.equal(redirectBlock(makePlan({ httpsPort: 8443, listenAddress: '127.0.0.1' }))?.[2], '\tbind 127.0.0.1\n\tredir https://{host}:8443{uri} 308\n');
    assert.equal(redirectBlock(makePlan({ httpsPort: 8443, public: true }))?.[1], 'http://agents.example.com');
    assert.equal(redirectBlock(makePlan({ httpsPort: 8443, single: true }))?.[1], 'http://agents.example.com, http://id.example.com');
  });

  it('leaves the redirect to Caddy on 443, where it is right', () => {
    assert.equal(redirectBlock(makePlan({ httpPort: 8080 })), null);
  });
});

describe('browser caching of private pages', () => {
  it('forbids storing protected pages, so none is shown again from cache after sign-out', () => {
    assert.match(generateCaddyfile(makePlan({})), /Cache-Control "private, no-store"/);
  });
});

describe('generateCaddyfile with --proxy-socket', () => {
  const socketCaddyfile = generateCaddyfile(makePlan({ proxySocket: '/run/latchkey/proxy.sock' }));

  it('reaches the proxy at unix//PATH everywhere it reached host:port', () => {
    assert.match(socketCaddyfile, /reverse_proxy \/oauth2\/\* unix\/\/run\/latchkey\/proxy\.sock\n/);
    assert.match(socketCaddyfile, /reverse_proxy @protected1 unix\/\/run\/latchkey\/proxy\.sock \{/);
    assert.match(socketCaddyfile, /\treverse_proxy unix\/\/run\/latchkey\/proxy\.sock\n/);
    assert.doesNotMatch(socketCaddyfile, /127\.0\.0\.1:4180/);
  });
});
