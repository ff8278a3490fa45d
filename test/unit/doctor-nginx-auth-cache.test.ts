// doctor reads the nginx configuration for auth-decision caches that an earlier `latchkey generate
// nginx --auth-cache` wrote and that must be generated again: proxy_cache ignoring the proxy's
// X-Accel-Expires (so it keeps the pass a --skip-auth-route gave, for made-up credentials), and the
// Lua engine's module asking through ngx.location.capture (a 500 for every HTTP/2 browser).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { COOKIE_SECRET, runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-auth-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const rules = [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }];
const current = generateNginxConfig(makePlan({ authCacheSeconds: 30, protectedPrefixes: rules }));
// what generate nginx --auth-cache wrote before the proxy marked a skip route's pass
const before = current.replaceAll('proxy_ignore_headers Cache-Control Expires;', 'proxy_ignore_headers Cache-Control Expires X-Accel-Expires;');

const PROXY = ['--client-id=latchkey-site', '--client-secret=s3cret', `--cookie-secret=${COOKIE_SECRET}`, '--oidc-issuer-url=https://id.example.com',
  '--redirect-url=https://agents.example.com/oauth2/callback', '--email-domain=*', '--upstream=static://202', '--reverse-proxy'];
const verdict = async (file: string, proxy: string[] = []) =>
  (await runDoctor(['--json', '--offline', '--nginx-config', file, ...(proxy.length ? ['--proxy-args', ...proxy] : [])])).byId('nginx-auth-cache');

describe('doctor: auth-decision caches of an earlier latchkey generate nginx', () => {
  it('passes the files generate nginx writes now, both engines', async () => {
    assert.notEqual(before, current, 'the test edits the generated line');
    assert.equal((await verdict(write('current.conf', current))).status, 'ok');
    const lua = await verdict(write('lua.conf', generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', protectedPrefixes: rules }))));
    assert.equal(lua.status, 'ok', lua.detail);
  });

  it('warns that a proxy_cache ignoring X-Accel-Expires must be generated again, and why', async () => {
    const check = await verdict(write('before.conf', before));
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /location = \/_latchkey\/auth\/1 \(.*before\.conf:\d+\), location = \/_latchkey\/auth\/2 \(.*before\.conf:\d+\) caches the proxy's 202/);
    assert.match(check.detail, /ignores its X-Accel-Expires \(proxy_ignore_headers\)/);
    assert.match(check.detail, /a made-up cookie that passed a skip route .* opens every protected path for the cache time/);
    assert.match(check.fix!, /generate the file again .*latchkey generate nginx/);
    assert.match(check.fix!, /proxy_ignore_headers Cache-Control Expires;/);
  });

  it('fails it when the proxy has a --skip-auth-route, and only warns without one', async () => {
    const file = write('before-proxy.conf', before);
    const open = await verdict(file, [...PROXY, '--skip-auth-route=OPTIONS=^/']);
    assert.equal(open.status, 'fail');
    assert.match(open.detail, /the proxy has 1 --skip-auth-route/);
    const closed = await verdict(file, PROXY);
    assert.equal(closed.status, 'warn');
    assert.match(closed.detail, /harmless while the proxy has no --skip-auth-route/);
  });

  it('fails a Lua auth cache that asks through ngx.location.capture behind HTTP/2, and warns one that never reads X-Accel-Expires', async () => {
    const lua = `http {
    init_by_lua_block {
        local function check(rule, auth_uri)
            local answer = ngx.location.capture(auth_uri)
        end
        package.loaded.latchkey_auth_cache = { check = check }
    }
    server {
        listen 443 ssl http2;
        location ^~ /private/ {
            access_by_lua_block { require("latchkey_auth_cache").check("/private/", "/_latchkey/auth/1") }
            error_page 401 = /_latchkey/sign-in;
            add_header Cache-Control "private, no-store" always;
        }
    }
}
`;
    const check = await verdict(write('lua-before.conf', lua));
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /the Lua auth cache at .*lua-before\.conf:2 asks the proxy through ngx\.location\.capture, .* refuses in HTTP\/2 requests, and location \^~ \/private\/ \(.*\) is served over HTTP\/2: every browser gets a 500/);
    assert.match(check.detail, /does not read the proxy's X-Accel-Expires/);
    assert.match(check.fix!, /generate the file again/);
    // over HTTP/1.1 only, the capture works; the skip route's pass is still kept
    const http1 = await verdict(write('lua-http1.conf', lua.replace('listen 443 ssl http2;', 'listen 443 ssl;').replace('local answer', 'local skip = name == "x-accel-expires"\n            local answer')));
    assert.equal(http1.status, 'ok', http1.detail);
  });
});
