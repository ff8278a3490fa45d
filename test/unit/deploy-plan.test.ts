import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planFromArgs } from '../../src/deploy/plan.ts';
import { configProblems } from '../helpers/config-problems.ts';

const problemsOf = (argv: string[]) => configProblems(() => planFromArgs(argv), argv.join(' '));

describe('planFromArgs', () => {
  it('plans the guide\'s deployment when given no flags', () => {
    const plan = planFromArgs([]);
    assert.equal(plan.idHost, 'id.example.com');
    assert.equal(plan.siteHost, 'agents.example.com');
    assert.deepEqual(plan.protectedPrefixes, [{ prefix: '/private/', allowedGroups: [] }]);
    assert.equal(plan.idUpstream, '127.0.0.1:1411');
    assert.equal(plan.proxyUpstream, '127.0.0.1:4180');
    assert.equal(plan.authCacheSeconds, 0);
    assert.equal(plan.httpsPort, 443);
    assert.equal(plan.tls.certificate, '/etc/letsencrypt/live/agents.example.com/fullchain.pem');
  });

  it('logs to nginx\'s default file unless --default-access-log names another or says off', () => {
    assert.equal(planFromArgs([]).defaultAccessLogPath, '/var/log/nginx/access.log');
    assert.equal(planFromArgs(['--default-access-log', '/srv/logs/edge.log']).defaultAccessLogPath, '/srv/logs/edge.log');
    assert.equal(planFromArgs(['--default-access-log=off']).defaultAccessLogPath, null);
    assert.match(problemsOf(['--default-access-log', 'logs/access.log;']).join(), /--default-access-log: "logs\/access\.log;" is not an absolute path or "off"/);
  });

  it('derives the certificate paths from the site host', () => {
    assert.equal(planFromArgs(['--site-host', 'blog.example.org']).tls.key, '/etc/letsencrypt/live/blog.example.org/privkey.pem');
  });

  it('reads repeated --protect flags with their groups, in both flag spellings', () => {
    const plan = planFromArgs(['--protect', '/private/', '--protect=/private/family=family,admins']);
    assert.deepEqual(plan.protectedPrefixes, [
      { prefix: '/private/', allowedGroups: [] },
      { prefix: '/private/family/', allowedGroups: ['family', 'admins'] },
    ]);
  });

  it('reads --auth-cache as a Go duration in seconds', () => {
    assert.equal(planFromArgs(['--auth-cache', '1m30s']).authCacheSeconds, 90);
  });

  it('keeps the auth cache with stock nginx unless --auth-cache-engine lua is asked for', () => {
    assert.equal(planFromArgs(['--auth-cache', '30s']).authCacheEngine, 'proxy_cache');
    assert.equal(planFromArgs(['--auth-cache', '30s', '--auth-cache-engine', 'lua']).authCacheEngine, 'lua');
    assert.match(problemsOf(['--auth-cache', '30s', '--auth-cache-engine', 'njs']).join(), /--auth-cache-engine: expected proxy_cache or lua, got "njs"/);
    assert.match(problemsOf(['--auth-cache-engine', 'lua']).join(), /--auth-cache-engine: there is no cache to keep; add --auth-cache/);
  });

  it('has the Lua engine reach the proxy at an IP address or a socket: its connections resolve no names', () => {
    const lua = ['--auth-cache', '30s', '--auth-cache-engine', 'lua'];
    assert.match(problemsOf([...lua, '--proxy-upstream', 'localhost:4180']).join(), /--proxy-upstream: "localhost:4180" names a host; .*IP address .*--proxy-socket/);
    for (const ok of [['--proxy-upstream', '10.0.0.2:4180'], ['--proxy-upstream', '[::1]:4180'], ['--proxy-socket', '/run/latchkey/proxy.sock']])
      assert.equal(planFromArgs([...lua, ...ok]).authCacheEngine, 'lua', ok.join(' '));
    assert.equal(planFromArgs(['--auth-cache', '30s', '--proxy-upstream', 'localhost:4180']).proxyUpstream, 'localhost:4180', 'proxy_cache goes through the upstream block');
  });

  it('reports every bad flag at once', () => {
    const problems = problemsOf(['--id-host', 'not a host', '--protect', 'private', '--auth-cache', 'soon', '--https-port', '70000', '--frobnicate']);
    assert.equal(problems.length, 5, problems.join('\n'));
    for (const flag of ['--id-host', '--protect', '--auth-cache', '--https-port', '--frobnicate']) assert.ok(problems.some((p) => p.startsWith(flag)), `nothing about ${flag}`);
  });

  it('refuses a group name that could inject into the generated files', () => {
    assert.match(problemsOf(['--protect', '/private/=family;evil']).join(), /group "family;evil"/);
  });

  it('refuses the same prefix given twice', () => {
    assert.match(problemsOf(['--protect', '/private/', '--protect', '/private']).join(), /given twice/);
  });

  it('refuses one host name for both the identity provider and the site', () => {
    assert.match(problemsOf(['--id-host', 'example.com', '--site-host', 'example.com']).join(), /host of its own/);
  });

  it('refuses --public together with --single', () => {
    assert.match(problemsOf(['--public', '--single']).join(), /choose one/);
  });
});

describe('planFromArgs --proxy-socket', () => {
  it('reaches the proxy over TCP unless asked, and over the given unix socket when asked', () => {
    assert.equal(planFromArgs([]).proxySocket, null);
    assert.equal(planFromArgs(['--proxy-socket', '/run/latchkey/proxy.sock']).proxySocket, '/run/latchkey/proxy.sock');
  });

  it('refuses a relative path, a folder, a path too long for a unix socket and characters that could inject', () => {
    for (const path of ['run/p.sock', '/run/latchkey/', `/${'a'.repeat(110)}`, '/run/p.sock;', '/run/p sock'])
      assert.match(problemsOf(['--proxy-socket', path]).join(), /--proxy-socket: .* is not an absolute path of at most 107 bytes/, path);
  });

  it('refuses it with --proxy-upstream, --single (serve is TCP only) or --public (no proxy), all at once', () => {
    const problems = problemsOf(['--proxy-socket=/run/p.sock', '--proxy-upstream=127.0.0.1:4181', '--single']).join('\n');
    assert.match(problems, /--proxy-socket and --proxy-upstream: choose one/);
    assert.match(problems, /--proxy-socket and --single: latchkey serve listens on TCP only/);
    assert.match(problemsOf(['--proxy-socket=/run/p.sock', '--public']).join(), /the rollback has no proxy/);
  });
});
