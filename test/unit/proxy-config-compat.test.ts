// oauth2-proxy configurations that latchkey proxy must read as oauth2-proxy does: values that
// change nothing here (defaults spelt out, placeholders, the variables Kubernetes adds), and the
// refusals that remain, each saying what to do.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Env } from '../../src/config/problems.ts';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { configProblems } from '../helpers/config-problems.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-proxy-compat-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
const writeConfig = (content: string): string => {
  const path = join(dir, `oauth2-proxy-${++fileCount}.cfg`);
  writeFileSync(path, content);
  return path;
};

const required = ['--client-id=site', '--client-secret=s3cret', '--oidc-issuer-url=https://id.example.com',
  `--cookie-secret=${randomBytes(32).toString('base64url')}`, '--email-domain=*'];
const load = (argv: string[], env: Env = {}) => loadProxyConfig({ argv: [...required, ...argv], env });

const problemsOf = (run: () => unknown) => configProblems(run);

describe('oauth2-proxy configurations that change nothing in latchkey', () => {
  it('accepts the Helm chart\'s placeholder upstream file:///dev/null as a file upstream that serves nothing', () => {
    const file = writeConfig('email_domains = [ "*" ]\nupstreams = [ "file:///dev/null" ]\n');
    assert.deepEqual(load([`--config=${file}`]).upstreams, [{ kind: 'static', statusCode: 404 }], 'every signed-in request gets 404, as from oauth2-proxy');
    // beside a real upstream it owns nothing: the paths the other one does not own get 404 anyway
    assert.deepEqual(load(['--upstream=file:///dev/null', '--upstream=http://app:8080/']).upstreams.map((u) => u.kind), ['http']);
  });

  it('still refuses a file upstream whose folder is missing', () => {
    assert.match(problemsOf(() => load([`--upstream=file://${join(dir, 'missing')}`]))[0], /is not a folder/);
  });

  it('accepts --https-address without a certificate, since oauth2-proxy then serves no HTTPS either, and says so at start', () => {
    for (const config of [load(['--https-address=:443']), load(['--https-address', ':8443']), load([], { OAUTH2_PROXY_HTTPS_ADDRESS: ':443' }),
      load([`--config=${writeConfig('https_address = ":443"\n')}`])]) {
      assert.equal(config.clientId, 'site');
      assert.equal(config.warnings?.length, 1);
      assert.match(config.warnings![0], /--https-address .*ignored/);
    }
    assert.deepEqual(load([]).warnings, []);
  });

  it('refuses --https-address with a certificate and key, listing it with them', () => {
    const problems = problemsOf(() => load(['--https-address=:443', '--tls-cert-file=/etc/tls/crt.pem'], { OAUTH2_PROXY_TLS_KEY_FILE: '/etc/tls/key.pem' }));
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => /^--https-address: not supported by latchkey; terminate TLS in nginx or Caddy/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^--tls-cert-file: not supported/.test(p)));
    assert.ok(problems.some((p) => /^OAUTH2_PROXY_TLS_KEY_FILE \(--tls-key-file\): not supported/.test(p)));
  });

  it('ignores the variables Kubernetes injects for every Service named oauth2-proxy-*, such as the chart\'s Redis', () => {
    const redisMaster = {
      OAUTH2_PROXY_REDIS_MASTER_SERVICE_HOST: '10.96.4.7', OAUTH2_PROXY_REDIS_MASTER_SERVICE_PORT: '6379',
      OAUTH2_PROXY_REDIS_MASTER_SERVICE_PORT_TCP_REDIS: '6379', OAUTH2_PROXY_REDIS_MASTER_PORT: 'tcp://10.96.4.7:6379',
      OAUTH2_PROXY_REDIS_MASTER_PORT_6379_TCP: 'tcp://10.96.4.7:6379', OAUTH2_PROXY_REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      OAUTH2_PROXY_REDIS_MASTER_PORT_6379_TCP_PORT: '6379', OAUTH2_PROXY_REDIS_MASTER_PORT_6379_TCP_ADDR: '10.96.4.7',
      OAUTH2_PROXY_REDIS_HEADLESS_V6_SERVICE_HOST: 'fd00:10:96::4', OAUTH2_PROXY_REDIS_HEADLESS_V6_PORT: 'tcp://[fd00:10:96::4]:6379',
      OAUTH2_PROXY_REDIS_HEADLESS_V6_PORT_6379_TCP_ADDR: 'fd00:10:96::4',
    };
    assert.equal(load([], redisMaster).clientId, 'site');
  });

  it('still refuses an unknown variable that only looks like a Service link, by its value', () => {
    const lookalikes = { OAUTH2_PROXY_HTTP_PORT: '4180', OAUTH2_PROXY_UPSTREAM_SERVICE_HOST: 'app.internal', OAUTH2_PROXY_REDIS_PORT_6379_TCP_PROTO: 'redis' };
    const problems = problemsOf(() => load([], lookalikes));
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['OAUTH2_PROXY_HTTP_PORT', 'OAUTH2_PROXY_REDIS_PORT_6379_TCP_PROTO', 'OAUTH2_PROXY_UPSTREAM_SERVICE_HOST']);
    for (const problem of problems) assert.match(problem, /unknown variable/);
  });

  it('accepts switches and values given as latchkey behaves anyway, from a file, the environment or flags', () => {
    const file = writeConfig([
      'pass_basic_auth = false', 'skip_oidc_discovery = false', 'set_basic_auth = false', 'prefer_email_to_user = false',
      'request_logging = false', 'real_client_ip_header = "X-Real-IP"', 'approval_prompt = "force"', 'user_id_claim = "email"',
      'redis_use_sentinel = false', 'redis_use_cluster = false', '',
    ].join('\n'));
    assert.equal(load([`--config=${file}`]).clientId, 'site');
    assert.equal(load([], { OAUTH2_PROXY_REAL_CLIENT_IP_HEADER: 'x-real-ip', OAUTH2_PROXY_APPROVAL_PROMPT: 'force', OAUTH2_PROXY_PASS_BASIC_AUTH: 'false' }).clientId, 'site');
    assert.equal(load(['--real-client-ip-header', 'X-Real-IP', '--approval-prompt=force', '--skip-oidc-discovery=false', '--set-basic-auth=false']).clientId, 'site');
  });

  it('accepts --pass-basic-auth=true without a password: oauth2-proxy then sends only the X-Forwarded-* user headers latchkey always sends', () => {
    assert.equal(load(['--pass-basic-auth']).clientId, 'site');
    assert.equal(load(['--pass-basic-auth=true']).clientId, 'site');
    assert.equal(load([`--config=${writeConfig('pass_basic_auth = true\n')}`]).clientId, 'site');
    // the Basic header itself needs a password, which stays refused
    const problems = problemsOf(() => load(['--pass-basic-auth=true', '--basic-auth-password=hunter2']));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^--basic-auth-password: not supported by latchkey; .*Authorization: Basic/);
    assert.ok(!problems[0].includes('hunter2'), 'a password never appears in a message');
  });

  it('refuses the other values, saying what latchkey does instead, all in one message', () => {
    const problems = problemsOf(() => load([
      '--request-logging=true', '--real-client-ip-header=CF-Connecting-IP', '--approval-prompt=auto', '--prefer-email-to-user',
      '--api-route=^/api/', '--redis-use-sentinel', '--redis-use-cluster=true', '--set-basic-auth', '--skip-oidc-discovery',
    ]));
    assert.equal(problems.length, 9, problems.join('\n'));
    const problem = (flag: string) => problems.find((p) => p.startsWith(`--${flag}`)) ?? assert.fail(`no problem for --${flag} in\n${problems.join('\n')}`);
    assert.match(problem('request-logging'), /writes no line per request/);
    assert.match(problem('real-client-ip-header'), /^--real-client-ip-header=CF-Connecting-IP: .*accepts --real-client-ip-header=X-Real-IP/);
    assert.match(problem('approval-prompt'), /use --prompt/);
    assert.match(problem('prefer-email-to-user'), /X-Forwarded-User is always the subject/);
    assert.match(problem('api-route'), /application\/json/);
    assert.match(problem('redis-use-sentinel'), /one Redis server/);
    assert.match(problem('redis-use-cluster'), /one Redis server/);
  });
});

describe('--redirect-url', () => {
  it('takes an absolute path, which oauth2-proxy completes from each request', () => {
    assert.equal(load(['--redirect-url=/oauth2/callback']).redirectUrl, '/oauth2/callback');
    assert.equal(load([], { OAUTH2_PROXY_REDIRECT_URL: '/auth/oauth2/callback' }).redirectUrl, '/auth/oauth2/callback');
  });

  it('still takes an absolute http(s) URL as written', () => {
    assert.equal(load(['--redirect-url=https://site.example/oauth2/callback']).redirectUrl, 'https://site.example/oauth2/callback');
  });

  it('refuses anything else, such as a path a browser would read as another host', () => {
    for (const value of ['oauth2/callback', '//evil.example/oauth2/callback', '/\\evil.example/oauth2/callback', 'ftp://site.example/cb', '/oauth2/callback#x', '/oauth 2/callback']) {
      const problems = problemsOf(() => load([`--redirect-url=${value}`]));
      assert.equal(problems.length, 1, value);
      assert.match(problems[0], /^--redirect-url \/ OAUTH2_PROXY_REDIRECT_URL: /, value);
    }
  });
});
