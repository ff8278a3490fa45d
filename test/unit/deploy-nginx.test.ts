import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { HIDDEN_PATH } from '../../src/deploy/nginx-parts.ts';
import { generateNginxPublicConfig } from '../../src/deploy/nginx-public-config.ts';
import { generateNginxSingleConfig } from '../../src/deploy/nginx-single-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { RELAYED_COOKIE_LINES, relayedCookieHeader } from '../../src/proxy/relayed-cookies.ts';

/** Every `location … { … }` block (they hold no nested blocks) without its comments, by its head. */
function locations(config: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const lines = config.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  for (let i = 0; i < lines.length; i++) {
    const head = /^location (.+) \{$/.exec(lines[i]);
    if (!head) continue;
    const body: string[] = [];
    while (lines[++i] !== '}') body.push(lines[i]);
    found.set(head[1], body);
  }
  return found;
}

const family = makePlan({ protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'admins'] }] });
const config = generateNginxConfig(family);
const blocks = locations(config);

describe('generateNginxConfig', () => {
  it('protects every prefix with ^~ so that no regex location can serve it, and says why', () => {
    assert.ok(blocks.has('^~ /private/'));
    assert.ok(blocks.has('^~ /private/family/'));
    assert.match(config, /regex.*\n.*~\* \\\.xml\$/);
  });

  it('checks each prefix at its own internal auth location, with the prefix\'s groups as allowed_groups', () => {
    const familyAuth = blocks.get('^~ /private/family/')!.find((l) => l.startsWith('auth_request '))!.split(' ')[1].replace(';', '');
    assert.ok(blocks.get(`= ${familyAuth}`)!.includes('proxy_pass http://latchkey_proxy/oauth2/auth?allowed_groups=family,admins;'));
    assert.ok(blocks.get(`= ${familyAuth}`)!.includes('internal;'));
    const privateAuth = blocks.get('^~ /private/')!.find((l) => l.startsWith('auth_request '))!.split(' ')[1].replace(';', '');
    assert.ok(blocks.get(`= ${privateAuth}`)!.includes('proxy_pass http://latchkey_proxy/oauth2/auth;'));
  });

  it('tells the proxy the visitor\'s own method and address, never leaving the visitor\'s headers to say them', () => {
    // auth_request's subrequest is a GET carrying the visitor's headers: without these lines a
    // METHOD= skip-auth route would be matched against GET, or a method the visitor made up
    for (const head of [...blocks.keys()].filter((h) => h.startsWith('= ') && blocks.get(h)!.some((l) => l.startsWith('proxy_pass http://latchkey_proxy/oauth2/auth')))) {
      assert.ok(blocks.get(head)!.includes('proxy_set_header X-Forwarded-Method $request_method;'), head);
      assert.ok(blocks.get(head)!.includes('proxy_set_header X-Forwarded-Uri $request_uri;'), head);
    }
  });

  it('sends a 401 to the proxy\'s sign-in with the original address in X-Auth-Request-Redirect', () => {
    const target = blocks.get('^~ /private/')!.find((l) => l.startsWith('error_page 401'))!;
    assert.equal(target, 'error_page 401 = /_latchkey/sign-in;');
    const signIn = blocks.get('= /_latchkey/sign-in')!;
    assert.ok(signIn.includes('internal;'));
    assert.ok(signIn.includes('proxy_pass http://latchkey_proxy/oauth2/sign_in;'));
    assert.ok(signIn.includes('proxy_set_header X-Auth-Request-Redirect $scheme://$host$request_uri;'));
  });

  it('answers the proxy\'s 403 with a page that names none of the prefix\'s groups', () => {
    const page = /location = \/_latchkey\/refused\/2 \{[\s\S]*?return 403 '([^']*)';/.exec(config)![1];
    assert.match(page, /your account does not have access here/);
    assert.doesNotMatch(page, /(?<!font-)family|admins/); // font-family is CSS
  });

  it('explains why it does not redirect with ?rd=$request_uri', () => {
    assert.match(config, /cannot URL-encode/);
    assert.doesNotMatch(config.replace(/#.*$/gm, ''), /rd=\$/);
  });

  it('keeps a non-standard port in the return address and in the Host the proxy checks it against', () => {
    const onTestPort = generateNginxConfig(makePlan({ httpsPort: 8443 }));
    assert.match(onTestPort, /X-Auth-Request-Redirect \$scheme:\/\/\$host:8443\$request_uri;/);
    assert.match(onTestPort, /proxy_set_header Host \$host:8443;/);
    assert.doesNotMatch(onTestPort, /proxy_set_header Host \$host;/);
  });

  it('gives /oauth2/ the large proxy buffers that big session cookies need', () => {
    const oauth2 = blocks.get('^~ /oauth2/')!;
    for (const line of ['proxy_buffer_size 128k;', 'proxy_buffers 4 256k;', 'proxy_busy_buffers_size 256k;']) assert.ok(oauth2.includes(line), line);
  });

  it('gives the auth check 32k for its answer headers, not the 128k set aside for every subrequest', () => {
    const auth = blocks.get('= /_latchkey/auth/1')!;
    for (const line of ['proxy_buffer_size 32k;', 'proxy_buffers 4 32k;', 'proxy_busy_buffers_size 64k;']) assert.ok(auth.includes(line), line);
    assert.ok(!auth.includes('proxy_buffer_size 128k;'));
  });

  it('sends X-Forwarded-Proto, -For and -Host from every location that proxies', () => {
    for (const [head, body] of blocks) {
      if (!body.some((l) => l.startsWith('proxy_pass '))) continue;
      for (const name of ['X-Forwarded-Proto $scheme', 'X-Forwarded-For $proxy_add_x_forwarded_for', 'X-Forwarded-Host $host', 'Host $host'])
        assert.ok(body.includes(`proxy_set_header ${name};`), `${head} lacks ${name}`);
    }
  });

  it('keeps connections to the proxy and the provider open: keepalive upstreams, HTTP/1.1 without Connection: close', () => {
    for (const name of ['latchkey_id', 'latchkey_proxy']) assert.match(config, new RegExp(`upstream ${name} \\{\\n\\s+server [^\\n]+;\\n\\s+keepalive \\d+;`), name);
    for (const [head, body] of blocks) {
      if (!body.some((l) => l.startsWith('proxy_pass '))) continue;
      assert.ok(body.includes('proxy_http_version 1.1;') && body.includes('proxy_set_header Connection "";'), head);
    }
  });

  it('sets no proxy header in a location that proxies nothing', () => {
    for (const [head, body] of blocks)
      if (!body.some((l) => l.startsWith('proxy_pass '))) assert.ok(!body.some((l) => l.startsWith('proxy_set_header')), head);
  });

  it('reads only headers the proxy sends with --set-xauthrequest, and its Set-Cookie', () => {
    const read = [...config.matchAll(/auth_request_set \$\w+ \$upstream_http_(\w+);/g)].map((m) => m[1]);
    const relayed = Array.from({ length: RELAYED_COOKIE_LINES }, (_, i) => relayedCookieHeader(i).replaceAll('-', '_'));
    assert.deepEqual([...new Set(read)].sort(), [...relayed, 'x_auth_request_email', 'x_auth_request_user'].sort());
  });

  it('passes every Set-Cookie line of the auth answer on to the browser, each from a header of its own', () => {
    const body = blocks.get('^~ /private/')!;
    for (let i = 0; i < RELAYED_COOKIE_LINES; i++) {
      assert.ok(body.includes(`auth_request_set $latchkey_auth_cookie_${i} $upstream_http_x_latchkey_set_cookie_${i};`));
      assert.ok(body.includes(`add_header Set-Cookie $latchkey_auth_cookie_${i};`));
    }
    assert.ok(!body.some((line) => line.includes('$upstream_http_set_cookie')), 'nginx keeps one Set-Cookie line of several, or joins them');
  });

  it('repeats HSTS in protected locations, whose add_header would otherwise hide the server\'s', () => {
    assert.ok(blocks.get('^~ /private/')!.some((l) => l.startsWith('add_header Strict-Transport-Security')));
    assert.equal(config.match(/^ {4}add_header Strict-Transport-Security/gm)?.length, 2, 'one per HTTPS server');
  });

  it('redirects plain HTTP for both hosts to HTTPS', () => {
    assert.match(config, /listen 80;\n\s+server_name agents\.example\.com id\.example\.com;\n\s+access_log [^\n]+;\n\s+return 301 https:\/\/\$host\$request_uri;/);
  });

  it('proxies the id host to latchkey id', () => {
    assert.match(config, /server_name id\.example\.com;[\s\S]*?proxy_pass http:\/\/latchkey_id;/);
    assert.match(config, /upstream latchkey_id \{\n\s+server 127\.0\.0\.1:1411;/);
  });

  it('buffers the "who read what" access log of protected prefixes, flushed every second', () => {
    assert.match(config, /access_log \S+latchkey-access\.log latchkey buffer=64k flush=1s;/);
  });

  it('has no auth cache unless asked', () => {
    assert.doesNotMatch(config, /proxy_cache/);
  });

  it('caches only 202 answers, keyed by host, rule and the whole Cookie and Authorization headers, and states the revocation delay', () => {
    const cached = generateNginxConfig(makePlan({ ...family, authCacheSeconds: 45 }));
    const auth = locations(cached).get('= /_latchkey/auth/2')!;
    assert.ok(auth.includes('proxy_cache_valid 202 45s;'));
    assert.ok(auth.includes('proxy_cache_key "$host\\n/private/family/=family,admins\\n$http_authorization\\n$http_cookie";'));
    assert.ok(auth.includes('proxy_no_cache $latchkey_no_credentials;'));
    assert.ok(auth.includes('open_file_cache max=256 inactive=60s;'), 'cache files stay open between hits');
    for (const [where, body] of locations(cached)) {
      if (!where.startsWith('= /_latchkey/auth/')) assert.ok(!body.some((line) => line.startsWith('open_file_cache')), `the site's own files are not kept open (${where})`);
    }
    assert.match(cached, /map "\$http_cookie\$http_authorization" \$latchkey_no_credentials \{\n\s+"" 1;/);
    assert.match(cached, /REVOCATION DELAY[^\n]*\n#[^\n]*up to 45 seconds/);
    assert.doesNotMatch(cached, /_by_lua|lua_shared_dict/);
  });

  it('keeps the cache files, which hold every visitor\'s Cookie header, in memory by default, and says so', () => {
    const cached = generateNginxConfig(makePlan({ authCacheSeconds: 30 }));
    assert.match(cached, /^proxy_cache_path \/run\/nginx-latchkey-auth /m);
    const note = cached.slice(cached.indexOf('THE CACHE FILES'), cached.indexOf('proxy_cache_path')).replace(/\n# /g, ' ');
    for (const said of [/WHOLE Cookie HEADER, THEIR SESSION INCLUDED, in plain text/, /www-data/, /as long as their sessions last/, /mode 0700/, /in memory, which no reboot outlives/, /--auth-cache-engine lua.*HMAC/])
      assert.match(note, said);
    const elsewhere = generateNginxConfig(makePlan({ authCacheSeconds: 30, authCachePath: '/srv/cache/auth' })).replace(/\n# /g, ' ');
    assert.match(elsewhere, /keep it out of backups, best on a tmpfs such as \/run/);
  });

  describe('with --auth-cache-engine lua', () => {
    const lua = generateNginxConfig(makePlan({ ...family, authCacheSeconds: 45, authCacheEngine: 'lua' }));
    const luaBlocks = locations(lua);

    it('checks protected prefixes in the access phase, without auth_request or proxy_cache', () => {
      const family = luaBlocks.get('^~ /private/family/')!;
      assert.ok(family.includes('access_by_lua_block { require("latchkey_auth_cache").check("/private/family/=family,admins", "/oauth2/auth?allowed_groups=family,admins") }'));
      assert.ok(!family.some((l) => l.startsWith('auth_request')));
      assert.ok(!family.some((l) => l.startsWith('add_header Set-Cookie')), 'the check passes Set-Cookie itself, every line of it');
      for (const name of ['latchkey_user', 'latchkey_email', 'latchkey_auth_status']) assert.ok(family.includes(`set $${name} "";`), name);
      assert.ok(family.includes('error_page 401 = /_latchkey/sign-in;'));
      assert.ok(family.includes('error_page 403 = /_latchkey/refused/2;'));
      assert.doesNotMatch(lua, /proxy_cache/);
    });

    // lua-nginx-module 0.10.23 refuses ngx.location.capture in HTTP/2 requests, and the server
    // speaks HTTP/2 (deploy-auth-cache.test.ts asks over HTTP/2 with real nginx)
    it('asks the proxy over connections of its own, never through a subrequest, with the auth location\'s very headers', () => {
      assert.doesNotMatch(lua.replace(/^\s*(#|--).*$/gm, ''), /ngx\.location\.capture|_latchkey\/auth\//);
      assert.ok(![...luaBlocks.keys()].some((head) => head.startsWith('= /_latchkey/auth/')), 'no auth location is left unused');
      assert.match(lua, /^ {8}return sock:connect\("127\.0\.0\.1", 4180\)$/m);
      assert.match(lua, /^ {4}local POOL_SIZE, POOL_IDLE = 16, 60000$/m);
      // the header lines of the proxy_cache engine's auth location, which auth_request sends
      const auth = blocks.get('= /_latchkey/auth/2')!;
      const location = auth.filter((l) => l.startsWith('proxy_set_header ') && !/ (Connection|Content-Length) /.test(l)).map((l) => l.split(' ')[1]);
      const sent = [...lua.matchAll(/^ {8}add\(parts, "([A-Za-z-]+): ", (.+)\)$/gm)];
      assert.deepEqual(sent.map((m) => m[1]).sort(), location.sort());
      assert.ok(auth.includes('proxy_pass_request_headers off;'), 'and nothing else of the visitor\'s');
      const lua8443 = generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', httpsPort: 8443 }));
      assert.match(lua8443, /add\(parts, "Host: ", \(var\.host or ""\) \.\. ":8443"\)/);
      assert.match(lua8443, /add\(parts, "X-Forwarded-For: ", \(\(var\.http_x_forwarded_for and var\.http_x_forwarded_for \.\. ", " or ""\) \.\. var\.remote_addr\)\)/);
    });

    it('connects to --proxy-socket, or to an IPv6 address, and refuses a host name it could not look up', () => {
      const onSocket = generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', proxySocket: '/run/latchkey/proxy.sock' }));
      assert.match(onSocket, /^ {8}return sock:connect\("unix:\/run\/latchkey\/proxy\.sock"\)$/m);
      const onIpv6 = generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', proxyUpstream: '[::1]:4181' }));
      assert.match(onIpv6, /^ {8}return sock:connect\("\[::1\]", 4181\)$/m);
      assert.throws(() => generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', proxyUpstream: 'proxy:4180' })), /IP address/);
    });

    it('keeps the decisions in a shared dict for the cache time, and says which package to install and how it is loaded', () => {
      assert.match(lua, /^lua_shared_dict latchkey_auth_decisions 10m;$/m);
      assert.match(lua, /^ {4}local ttl = 45$/m);
      assert.match(lua, /apt-get install libnginx-mod-http-lua/);
      assert.match(lua, /modules-enabled/);
      assert.match(lua, /least recently used/);
      assert.match(lua, /REVOCATION DELAY[^\n]*\n#[^\n]*up to 45 seconds/);
      assert.doesNotMatch(lua, /^\s*load_module/m, 'load_module cannot go inside http { }');
    });
  });
});

describe('what the generated nginx files serve from the site folder (as latchkey serve: src/edge/file-lookup.ts)', () => {
  const files = { split: config, 'split, Lua auth cache': generateNginxConfig(makePlan({ ...family, authCacheSeconds: 30, authCacheEngine: 'lua' })), public: generateNginxPublicConfig(makePlan({ public: true })) };

  it('follows no symlink under the site root, the root itself excepted, and keeps the look-ups for a second', () => {
    for (const [name, text] of Object.entries(files)) {
      const site = servers(text).find((body) => body.some((l) => l.startsWith('root ')))!;
      for (const line of ['disable_symlinks on from=$document_root;', 'open_file_cache max=1000 inactive=20s;', 'open_file_cache_valid 1s;']) assert.ok(site.includes(line), `${name}: ${line}`);
    }
  });

  it('answers 404 for a dot-path before any location is chosen, /.well-known/ at the top excepted', () => {
    for (const [name, text] of Object.entries(files)) {
      const site = servers(text).find((body) => body.some((l) => l.startsWith('root ')))!;
      const at = site.indexOf(`if ($uri ~ "${HIDDEN_PATH}") {`);
      assert.ok(at >= 0 && site[at + 1] === 'return 404;', name);
    }
    // nginx's PCRE and JavaScript read this pattern alike; the paths are nginx's $uri (decoded, normalised)
    const hidden = new RegExp(HIDDEN_PATH);
    for (const path of ['/.git/config', '/.env', '/a/.env', '/private/.env', '/a/b/.c/d.html', '/.well-known/.x', '/.well-known/a/.b', '/.well-knownx/a', '/.well-known-x'])
      assert.ok(hidden.test(path), path);
    for (const path of ['/', '/a.b', '/a/b.c/d.html', '/.well-known', '/.well-known/', '/.well-known/security.txt', '/.well-known/acme-challenge/x.y', '/private/'])
      assert.ok(!hidden.test(path), path);
  });

  it('checks a protected prefix without its slash as the prefix itself, so nginx\'s redirect to it tells nobody it exists', () => {
    for (const [name, text] of Object.entries(files).filter(([n]) => n !== 'public')) {
      const found = locations(text);
      for (const prefix of ['/private/', '/private/family/']) {
        const bare = found.get(`= ${prefix.slice(0, -1)}`);
        assert.deepEqual(bare, found.get(`^~ ${prefix}`), `${name}: ${prefix}`);
      }
    }
  });
});

describe('generateNginxPublicConfig (rollback)', () => {
  const rollback = generateNginxPublicConfig(makePlan());

  it('serves the whole site without asking anyone', () => {
    assert.doesNotMatch(rollback, /auth_request|oauth2|latchkey_proxy/);
    assert.match(rollback, /root \/var\/www\/agents;/);
  });

  it('says loudly that private pages are public', () => {
    assert.match(rollback, /NO authentication/);
  });
});

describe('generateNginxSingleConfig', () => {
  const single = generateNginxSingleConfig(makePlan());

  it('sends both hosts to latchkey serve and serves no files itself', () => {
    assert.match(single, /server_name agents\.example\.com id\.example\.com;/);
    assert.match(single, /upstream latchkey_serve \{\n\s+server 127\.0\.0\.1:8080;\n\s+keepalive \d+;/);
    assert.match(single, /proxy_http_version 1\.1;\n\s+proxy_set_header Connection "";/);
    assert.doesNotMatch(single, /auth_request|root |try_files/);
  });

  it('gives answer headers 32k and bodies the guide\'s 4 × 256k', () => {
    assert.match(single, /proxy_buffer_size 32k;\n\s+proxy_buffers 4 256k;\n\s+proxy_busy_buffers_size 256k;/);
  });
});

describe('browser caching of private pages', () => {
  it('forbids storing protected pages, so none is shown again from cache after sign-out', () => {
    const config = generateNginxConfig(makePlan({}));
    const privateLocation = config.slice(config.indexOf('location ^~ /private/'));
    assert.match(privateLocation, /add_header Cache-Control "private, no-store" always;/);
  });
});

describe('generateNginxConfig with --proxy-socket', () => {
  const socketConfig = generateNginxConfig(makePlan({ proxySocket: '/run/latchkey/proxy.sock' }));

  it('reaches the proxy over the unix socket, keeping idle connections open', () => {
    assert.match(socketConfig, /upstream latchkey_proxy \{\n\s+server unix:\/run\/latchkey\/proxy\.sock;\n\s+keepalive 16;\n\}/);
    assert.doesNotMatch(socketConfig, /127\.0\.0\.1:4180/);
  });

  it('still reaches latchkey id over TCP, and every proxied location still speaks HTTP/1.1 without Connection: close', () => {
    assert.match(socketConfig, /upstream latchkey_id \{\n\s+server 127\.0\.0\.1:1411;/);
    for (const [head, body] of locations(socketConfig)) {
      if (!body.some((l) => l.startsWith('proxy_pass '))) continue;
      assert.ok(body.includes('proxy_http_version 1.1;') && body.includes('proxy_set_header Connection "";'), head);
    }
  });
});

/** Every `server { … }` block of a generated file (its locations hold no nested blocks), comments removed. */
function servers(text: string): string[][] {
  const lines = text.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  const found: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 'server {') continue;
    const body: string[] = [];
    for (let depth = 1; depth > 0; ) {
      const line = lines[++i];
      depth += (line.endsWith('{') ? 1 : 0) - (line === '}' ? 1 : 0);
      if (depth > 0) body.push(line);
    }
    found.push(body);
  }
  return found;
}

/** What nginx's map does with one value: the first regex that matches, its value with the captures put in. */
function applyMap(text: string, variable: string, input: string): string {
  const block = new RegExp(`^map \\S+ \\${variable} \\{\\n([\\s\\S]*?)\\n\\}`, 'm').exec(text)![1].split('\n').map((l) => l.trim());
  if (input === '') return /^"" "(.*)";$/.exec(block.find((l) => l.startsWith('""'))!)![1];
  for (const line of block) {
    const entry = /^"~\*(.*)" "(.*)";$/.exec(line);
    if (!entry) continue;
    // nginx's PCRE and JavaScript agree on everything these patterns use
    const match = new RegExp(entry[1], 'i').exec(input);
    if (match) return entry[2].replace(/\$\{(\w+)\}/g, (_, name: string) => match.groups?.[name] ?? '');
  }
  return input;
}

describe('access logs of the generated nginx files', () => {
  const token = 'k3Jq9_Zx-1vT8sYb4nLp2mWc7dRf6hGe0aUiOoPlKjH';
  const variants = {
    split: generateNginxConfig(makePlan({ protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }] })),
    'split, Lua auth cache': generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua' })),
    'split, no protected-prefix log': generateNginxConfig(makePlan({ accessLogPath: null })),
    single: generateNginxSingleConfig(makePlan({ single: true })),
    public: generateNginxPublicConfig(makePlan({ public: true })),
  };

  it('logs every server block, the redirecting ones too, through the redacting format to nginx\'s default file', () => {
    for (const [name, text] of Object.entries(variants)) {
      const blocks = servers(text);
      assert.ok(blocks.length >= 2, name);
      for (const block of blocks) assert.ok(block.includes('access_log /var/log/nginx/access.log latchkey_combined;'), `${name}: ${block.join(' ')}`);
    }
  });

  it('writes no log format with the raw request line or Referer, which carry the tokens', () => {
    for (const [name, text] of Object.entries(variants)) {
      const formats = text.split('\n').filter((l) => l.startsWith('log_format '));
      assert.ok(formats.length >= 1, name);
      for (const format of formats) {
        assert.match(format, /"\$latchkey_request" \$status \$body_bytes_sent "\$latchkey_referer"/, `${name}: ${format}`);
        assert.doesNotMatch(format, /\$request\b|\$request_uri|\$http_referer|\$uri\b|\$args|\$query_string/, `${name}: ${format}`);
      }
    }
    // the "who read what" log keeps its user, and "combined"'s shape
    assert.match(variants.split, /^log_format latchkey '\$remote_addr - \$latchkey_user \[\$time_local\] "\$latchkey_request" \$status \$body_bytes_sent "\$latchkey_referer" "\$http_user_agent"';$/m);
    assert.match(variants.split, /^log_format latchkey_combined '\$remote_addr - \$remote_user \[\$time_local\] "\$latchkey_request" \$status \$body_bytes_sent "\$latchkey_referer" "\$http_user_agent"';$/m);
  });

  it('names another file, or none, when asked', () => {
    const elsewhere = generateNginxSingleConfig(makePlan({ single: true, defaultAccessLogPath: '/srv/logs/edge.log' }));
    for (const block of servers(elsewhere)) assert.ok(block.includes('access_log /srv/logs/edge.log latchkey_combined;'));
    const off = generateNginxConfig(makePlan({ defaultAccessLogPath: null }));
    for (const block of servers(off)) assert.ok(block.includes('access_log off;'), block.join(' '));
    // the protected prefixes keep their own log
    assert.ok(blocks.get('^~ /private/')!.includes('access_log /var/log/nginx/latchkey-access.log latchkey buffer=64k flush=1s;'));
  });

  it('replaces one-time link tokens, setup tokens, codes and ID tokens in the request line, and keeps the rest', () => {
    const cases: [string, string][] = [
      [`GET /lc/${token} HTTP/2.0`, 'GET /lc/[redacted] HTTP/2.0'],
      [`GET /lc/${token}?utm_source=mail HTTP/1.1`, 'GET /lc/[redacted] HTTP/1.1'],
      [`HEAD //lc/${token} HTTP/1.1`, 'HEAD //lc/[redacted] HTTP/1.1'],
      [`GET https://id.example.com/lc/${token} HTTP/1.1`, 'GET https://id.example.com/lc/[redacted] HTTP/1.1'],
      [`GET /LC/${token} HTTP/1.1`, 'GET /LC/[redacted] HTTP/1.1'],
      [`GET /setup?token=${token} HTTP/2.0`, 'GET /setup?[redacted] HTTP/2.0'],
      [`GET /setup?lang=en&token=${token}&token=${token} HTTP/1.1`, 'GET /setup?[redacted] HTTP/1.1'],
      [`GET /oauth2/callback?code=${token}&state=abc&iss=https%3A%2F%2Fid.example.com HTTP/2.0`, 'GET /oauth2/callback?[redacted] HTTP/2.0'],
      [`GET /oauth2/callback?state=abc&code=${token} HTTP/2.0`, 'GET /oauth2/callback?[redacted] HTTP/2.0'],
      [`GET /api/oidc/end-session?client_id=app&id_token_hint=eyJhbGciOiJFUzI1NiJ9.${token}.sig HTTP/2.0`, 'GET /api/oidc/end-session?[redacted] HTTP/2.0'],
      [`GET /authorize?client_id=app&prompt=none&id_token_hint=eyJ.${token}.sig HTTP/2.0`, 'GET /authorize?[redacted] HTTP/2.0'],
      // nothing secret: as it came
      ['GET /private/page.html?a=1&b=2 HTTP/2.0', 'GET /private/page.html?a=1&b=2 HTTP/2.0'],
      ['GET /login?next=%2Finteraction%2Fabc HTTP/2.0', 'GET /login?next=%2Finteraction%2Fabc HTTP/2.0'],
      ['GET /search?barcode=123&mytoken=1 HTTP/1.1', 'GET /search?barcode=123&mytoken=1 HTTP/1.1'],
      ['GET /blog/token=1 HTTP/1.1', 'GET /blog/token=1 HTTP/1.1'],
      ['POST /link HTTP/2.0', 'POST /link HTTP/2.0'],
      ['', '-'],
    ];
    for (const [name, text] of Object.entries(variants))
      for (const [request, logged] of cases) assert.equal(applyMap(text, '$latchkey_request', request), logged, `${name}: ${request}`);
  });

  it('replaces them in the Referer too, which names the link on every request its page makes', () => {
    const cases: [string, string][] = [
      [`https://id.example.com/lc/${token}`, 'https://id.example.com/lc/[redacted]'],
      [`https://id.example.com/setup?token=${token}`, 'https://id.example.com/setup?[redacted]'],
      [`https://agents.example.com/oauth2/callback?state=s&code=${token}`, 'https://agents.example.com/oauth2/callback?[redacted]'],
      ['https://agents.example.com/private/?page=2', 'https://agents.example.com/private/?page=2'],
      ['', '-'],
    ];
    for (const [name, text] of Object.entries(variants))
      for (const [referer, logged] of cases) assert.equal(applyMap(text, '$latchkey_referer', referer), logged, `${name}: ${referer}`);
  });
});
