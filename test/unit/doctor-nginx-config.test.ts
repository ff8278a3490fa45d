import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { inherited, isProtected, matchLocation, parseNginx, readNginxDump, readNginxFile, servers } from '../../src/doctor/nginx-config.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const SITE = `server {
    server_name agents.example.com;
    proxy_set_header X-Forwarded-Proto $scheme;
    location /oauth2/ { proxy_pass http://127.0.0.1:4180; proxy_set_header Host $host; }
    location ^~ /private/ { auth_request /oauth2/auth; error_page 401 = /oauth2/sign_in; }
    location ~* "\\.(xml|json){1}$" { root /srv; }
}`;

describe('reading nginx configuration for the doctor', () => {
  it('reads `nginx -T` output and follows its includes to the dumped files', () => {
    const dump = `nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
# configuration file /etc/nginx/nginx.conf:
http {
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/sites-enabled/latchkey:
${SITE}
`;
    const [server] = servers(readNginxDump(dump));
    assert.deepEqual(server.names, ['agents.example.com']);
    assert.deepEqual(server.locations.map((l) => `${l.modifier} ${l.path}`), [' /oauth2/', '^~ /private/', '~* \\.(xml|json){1}$']);
  });

  it('follows a relative include of a configuration file on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-nginx-'));
    try {
      mkdirSync(join(dir, 'sites'));
      writeFileSync(join(dir, 'sites', 'a.conf'), SITE);
      writeFileSync(join(dir, 'nginx.conf'), 'http { include sites/*.conf; }');
      assert.equal(servers(readNginxFile(join(dir, 'nginx.conf'))).length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("forgets the server's proxy_set_header in a location that sets its own, as nginx does", () => {
    const [server] = servers({ source: 'test', root: parseNginx(SITE, 'test') });
    const oauth2 = server.locations[0];
    assert.deepEqual(inherited(oauth2, 'proxy_set_header').args, [['Host', '$host']]);
    assert.deepEqual(inherited(server.locations[1], 'proxy_set_header').args, [['X-Forwarded-Proto', '$scheme']]);
  });

  it('matches a URI the way nginx picks a location: ^~ beats a regex, a regex beats a plain prefix', () => {
    const [server] = servers({ source: 'test', root: parseNginx(SITE, 'test') });
    assert.equal(matchLocation(server, '/private/index.xml')?.path, '/private/');
    assert.equal(matchLocation(server, '/oauth2/feed.xml')?.modifier, '~*');
    assert.equal(matchLocation(server, '/oauth2/sign_in')?.path, '/oauth2/');
  });

  it('reports a missing semicolon instead of guessing', () => {
    assert.throws(() => parseNginx('server { listen 80 }', 'x.conf'), /x\.conf:1: missing ";"/);
  });

  it('reads a Lua block as Lua: braces in strings and comments, # and long brackets are not nginx syntax', () => {
    const text = `http {
    init_by_lua_block {
        local t = { a = "}", b = '{' } -- a comment with } and ;
        local n = #t --[[ a long
        comment } ]]
        local s = [==[ } ]] ]==]
    }
    server {
        location ^~ /private/ {
            access_by_lua_block { require("m").check("/private/", "/auth") }
            error_page 401 = /sign-in;
        }
        location = /after { return 204; }
    }
}`;
    const root = parseNginx(text, 'lua.conf');
    const init = root[0].block![0];
    assert.equal(init.name, 'init_by_lua_block');
    assert.match(init.args[0], /local s = \[==\[ \} \]\] \]==\]/);
    const [server] = servers({ source: 'test', root });
    assert.deepEqual(server.locations.map((l) => l.path), ['/private/', '/after']);
    assert.equal(server.locations[1].directive.line, 13, 'line numbers count the Lua lines');
    assert.ok(isProtected(server.locations[0]), 'access_by_lua_block protects the location');
    assert.ok(!isProtected(server.locations[1]));
  });

  it("checks the generated Lua auth cache's protected locations like auth_request ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-nginx-lua-'));
    try {
      const plan = makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }] });
      writeFileSync(join(dir, 'site.conf'), generateNginxConfig(plan));
      writeFileSync(join(dir, 'nginx.conf'), 'http { include site.conf; }');
      const doctor = await runDoctor(['--json', '--offline', '--nginx-config', join(dir, 'nginx.conf')]);
      for (const id of ['nginx-sign-in-on-401', 'nginx-private-caching', 'nginx-prefix-priority', 'cookie-size']) assert.equal(doctor.byId(id).status, 'ok', `${id}: ${doctor.byId(id).detail}`);
      assert.match(doctor.byId('nginx-sign-in-on-401').detail, /\/private\/family\/.*error_page 401 → \/_latchkey\/sign-in, with the return address/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads nginx -T from stdin with --nginx-t', async () => {
    const doctor = await runDoctor(['--json', '--offline', '--nginx-t'], { stdin: `# configuration file /etc/nginx/nginx.conf:\nhttp { ${SITE} }\n` });
    const check = doctor.byId('nginx-sign-in-on-401');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /without X-Auth-Request-Redirect or rd/);
  });
});
