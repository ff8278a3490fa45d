// What the generated nginx files serve from the site folder, with real nginx: nothing through a
// symlink (one from a public folder into /private/ would otherwise be served by its public
// address without a check, one to /etc outside the site), no dotfile or dot-folder (.git/, .env)
// but /.well-known/, and no hint of a protected section to an anonymous visitor who asks for it
// without its slash (nginx's 301 to /private/). `latchkey serve` refuses the same
// (src/edge/file-lookup.ts); deploy-caddy-run.test.ts checks the Caddyfile.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { generateNginxPublicConfig } from '../../src/deploy/nginx-public-config.ts';
import { makePlan, type DeploymentPlan } from '../../src/deploy/plan.ts';
import { freePort, makeCertificate, onFreshPorts, requireNginxLuaModules, startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { edgeFetch } from '../helpers/edge-fetch.ts';

const SITE = 'agents.example.com';
const work = mkdtempSync(join(tmpdir(), 'latchkey-static-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tls = makeCertificate(work, [SITE, 'id.example.com']);
const caPem = readFileSync(tls.certificate, 'utf8');

/**
 * The built site, in a folder reached through a symlink (a release folder behind "current", as
 * many deployments do): nginx must still serve it.
 */
function writeSite(): string {
  const real = join(work, 'releases', '1');
  const files: Record<string, string> = {
    'index.html': 'public home', '404.html': 'the 404 page', 'pub/page.html': 'public page',
    'private/index.html': 'private index', 'private/secret.html': 'private secret', 'private/.env': 'PRIVATE_ENV=1',
    'private/family/index.html': 'family page',
    '.git/config': '[remote "origin"]', '.env': 'SECRET=1', 'pub/.draft.html': 'draft', '.well-known/security.txt': 'Contact: mailto:x',
    '.well-known/.hidden': 'hidden', 'pub/.hidden/page.html': 'in a dot-folder',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(real, name, '..'), { recursive: true });
    writeFileSync(join(real, name), text);
  }
  writeFileSync(join(work, 'outside.txt'), 'outside the site');
  symlinkSync('../private/secret.html', join(real, 'pub', 'link.html'));
  symlinkSync('../private', join(real, 'pub', 'private-folder'));
  symlinkSync(join(work, 'outside.txt'), join(real, 'pub', 'outside.html'));
  symlinkSync('page.html', join(real, 'pub', 'same-folder.html'));
  const current = join(work, 'current');
  symlinkSync(real, current);
  return current;
}
const siteRoot = writeSite();

/** 202 for cookie "member", 403 for "friend" on the family rule, 401 without; counts the checks. */
async function startStubProxy(): Promise<{ server: Server; port: number; checks: string[] }> {
  const checks: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    if (url.pathname === '/oauth2/auth') {
      checks.push(String(req.headers['x-forwarded-uri']));
      const who = /_oauth2_proxy=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
      const status = !who ? 401 : url.searchParams.get('allowed_groups') && who !== 'member' ? 403 : 202;
      res.writeHead(status, { 'Content-Length': 0, ...(status === 202 ? { 'X-Auth-Request-User': who!, 'X-Auth-Request-Email': `${who}@example.com` } : {}) }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`sign in; return to ${req.headers['x-auth-request-redirect'] ?? '-'}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, checks };
}

async function startEdge(name: string, generate: (plan: DeploymentPlan) => string, overrides: Partial<DeploymentPlan>, lua = false) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return onFreshPorts(3, async () => {
    const port = await freePort();
    const plan = makePlan({
      tls, siteRoot, accessLogPath: join(dir, 'latchkey-access.log'), defaultAccessLogPath: join(dir, 'access.log'), errorLogPath: join(dir, 'error.log'),
      listenAddress: '127.0.0.1', httpsPort: port, httpPort: await freePort(),
      protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }],
      ...overrides,
    });
    writeNginxConf(dir, generate(plan), lua ? requireNginxLuaModules() : []);
    const nginx = await startNginx(dir, port);
    return { port, stop: () => nginx.stop() };
  });
}

const EDGES = [
  { name: 'split', lua: false },
  { name: 'split, Lua auth cache', lua: true },
] as const;

for (const variant of EDGES) {
  describe(`the generated nginx file (${variant.name}) serves only what latchkey serve would`, () => {
    let stub: Awaited<ReturnType<typeof startStubProxy>>;
    let edge: Awaited<ReturnType<typeof startEdge>>;
    before(async () => {
      stub = await startStubProxy();
      const cache = variant.lua ? { authCacheSeconds: 30, authCacheEngine: 'lua' as const } : {};
      edge = await startEdge(variant.name.replace(/\W+/g, '-'), generateNginxConfig, { proxyUpstream: `127.0.0.1:${stub.port}`, idUpstream: `127.0.0.1:${stub.port}`, ...cache }, variant.lua);
    });
    after(async () => {
      await edge?.stop();
      await new Promise((resolve) => stub?.server.close(resolve));
    });
    const get = (path: string, who?: string) => edgeFetch(`https://${SITE}:${edge.port}${path}`, { port: edge.port, caPem }, who ? { cookie: `_oauth2_proxy=${who}` } : {});

    it('serves the site from a root that is itself a symlink', async () => {
      assert.equal((await get('/pub/page.html')).body, 'public page');
      assert.equal((await get('/private/secret.html', 'member')).body, 'private secret');
    });

    it('follows no symlink: not from a public folder into /private/, not out of the site', async () => {
      for (const path of ['/pub/link.html', '/pub/private-folder/secret.html', '/pub/outside.html', '/pub/same-folder.html']) {
        const answer = await get(path);
        assert.equal(answer.status, 404, path);
        assert.equal(answer.body, 'the 404 page', path);
      }
    });

    it('answers 404 for dotfiles and dot-folders anywhere, protected ones included, without asking the proxy', async () => {
      const before = stub.checks.length;
      for (const path of ['/.git/config', '/%2egit/config', '//.git/config', '/.env', '/pub/.draft.html', '/pub/.hidden/page.html', '/.well-known/.hidden', '/private/.env']) {
        const answer = await get(path);
        assert.equal(answer.status, 404, path);
        assert.doesNotMatch(answer.body, /origin|SECRET|PRIVATE_ENV|draft|hidden/, path);
      }
      assert.equal((await get('/private/.env', 'member')).status, 404, 'not to a member either');
      assert.equal(stub.checks.length, before, 'a dot-path is refused before any check');
      assert.equal((await get('/.well-known/security.txt')).body, 'Contact: mailto:x');
    });

    it('asks for a sign-in on a protected prefix without its slash, and tells nothing more', async () => {
      for (const path of ['/private', '/private/family']) {
        const answer = await get(path);
        assert.equal(answer.status, 200, path);
        assert.equal(answer.body, `sign in; return to https://${SITE}:${edge.port}${path}`);
        assert.equal(answer.headers.location, undefined);
      }
      const member = await get('/private', 'member');
      assert.equal(member.status, 301);
      assert.equal(new URL(String(member.headers.location)).pathname, '/private/');
      assert.equal((await get('/private/family', 'friend')).status, 403, 'the family rule decides /private/family');
      assert.equal((await get('/privateer')).status, 404, 'a longer name is another path');
    });
  });
}

describe('the rollback nginx file (--public) refuses symlinks and dotfiles too', () => {
  it('serves the site, private pages included, but no symlink or dotfile', async () => {
    const edge = await startEdge('public', generateNginxPublicConfig, { public: true });
    try {
      const get = (path: string) => edgeFetch(`https://${SITE}:${edge.port}${path}`, { port: edge.port, caPem });
      assert.equal((await get('/private/secret.html')).body, 'private secret');
      for (const path of ['/pub/outside.html', '/pub/link.html', '/.git/config', '/.env', '/private/.env']) assert.equal((await get(path)).status, 404, path);
      assert.equal((await get('/.well-known/security.txt')).status, 200);
    } finally {
      await edge.stop();
    }
  });
});
