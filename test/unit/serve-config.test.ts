import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { serveContextFor } from '../../src/app/serve-context.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';
import { makeLocalCa } from '../helpers/local-ca.ts';
import { configProblems } from '../helpers/config-problems.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-serve-config-'));
const KEY = { ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };
const base = ['--site', dir, '--data', join(dir, 'data')];

const problemsOf = (run: () => unknown) => configProblems(run);

describe('latchkey serve configuration', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('needs nothing but a site folder: site on localhost:8080, provider on localhost:8081, /private/ protected', () => {
    const config = loadServeConfig({ argv: base, env: KEY });
    assert.equal(config.siteOrigin, 'http://localhost:8080');
    assert.equal(config.idOrigin, 'http://localhost:8081');
    assert.deepEqual(config.siteListen, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.idListen, { host: '127.0.0.1', port: 8081 });
    assert.equal(config.sharedListener, false);
    assert.deepEqual(config.protectedPrefixes, [{ prefix: '/private/', allowedGroups: [] }]);
    assert.equal(config.id.rpId, 'localhost');
    assert.equal(config.id.dbConnectionString, join(dir, 'data', 'latchkey.db'));
    assert.equal(config.tls, null);
  });

  it('refuses a misspelled LATCHKEY_ variable, naming the one meant, so a section meant to be private is never left public', () => {
    assert.deepEqual(problemsOf(() => loadServeConfig({ argv: base, env: { ...KEY, LATCHKEY_PROTECTED: '/members/', LATCHKEY_TLS_CRT: 'x' } })), [
      'LATCHKEY_PROTECTED: not a latchkey serve variable; did you mean LATCHKEY_PROTECT? (latchkey serve --help lists them all)',
      'LATCHKEY_TLS_CRT: not a latchkey serve variable; did you mean LATCHKEY_TLS_CERT? (latchkey serve --help lists them all)',
    ]);
    // bin/latchkey's own variable, and names that are no near miss of a serve variable, are left alone
    assert.ok(loadServeConfig({ argv: base, env: { ...KEY, LATCHKEY_PROXY_OPTIMIZE: 'speed', LATCHKEY_TEST: '1' } }));
  });

  it('keeps a localhost site on loopback when only PORT is set (HOST chooses the interface)', () => {
    assert.deepEqual(loadServeConfig({ argv: base, env: { ...KEY, PORT: '9000' } }).siteListen, { host: '127.0.0.1', port: 9000 });
    assert.deepEqual(loadServeConfig({ argv: [...base, '--url', 'https://example.com'], env: { ...KEY, PORT: '9000' } }).siteListen, { host: '0.0.0.0', port: 9000 });
  });

  it('reads an IPv6 HOST as the id does (HOST=:: listens on every interface)', () => {
    assert.deepEqual(loadServeConfig({ argv: base, env: { ...KEY, HOST: '::', PORT: '8080' } }).siteListen, { host: '::', port: 8080 });
    assert.deepEqual(loadServeConfig({ argv: base, env: { ...KEY, HOST: '::1' } }).siteListen, { host: '::1', port: 8080 });
  });

  it('reads several protected prefixes, each with its own groups', () => {
    const config = loadServeConfig({ argv: [...base, '--protect', '/private/', '--protect', '/private/family=family,friends'], env: KEY });
    assert.deepEqual(config.protectedPrefixes, [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'friends'] }]);
  });

  it('puts both origins on one listener, routed by Host, when their addresses share a port', () => {
    const config = loadServeConfig({ argv: [...base, '--url', 'https://agents.example.com', '--id-url', 'https://id.example.com', '--listen', '127.0.0.1:8080'], env: KEY });
    assert.equal(config.sharedListener, true);
    assert.deepEqual(config.idListen, { host: '127.0.0.1', port: 8080 });
    assert.equal(config.id.rpId, 'id.example.com');
    assert.equal(config.httpRedirectPort, null, 'no redirect listener without TLS');
  });

  it('takes its flags from LATCHKEY_* variables and the provider\'s address from APP_URL, as generated units set it', () => {
    const config = loadServeConfig({ argv: [], env: { ...KEY, LATCHKEY_SITE: dir, LATCHKEY_DATA: join(dir, 'data'), LATCHKEY_URL: 'https://agents.example.com',
      APP_URL: 'https://id.example.com', HOST: '127.0.0.1', PORT: '9000', LATCHKEY_PROTECT: '/private/ /private/family/=family' } });
    assert.equal(config.idOrigin, 'https://id.example.com');
    assert.deepEqual(config.siteListen, { host: '127.0.0.1', port: 9000 });
    assert.equal(config.protectedPrefixes.length, 2);
  });

  it('opens an https redirect listener on port 80 for a site on 443 with a certificate', () => {
    const local = makeLocalCa(join(dir, 'ca'), ['agents.example.com', 'id.example.com']);
    const config = loadServeConfig({ argv: [...base, '--url', 'https://agents.example.com', '--id-url', 'https://id.example.com', '--tls-cert', local.certFile, '--tls-key', local.keyFile], env: KEY });
    assert.equal(config.tls?.certPath, local.certFile);
    assert.equal(config.httpRedirectPort, 80);
    assert.deepEqual(config.siteListen, { host: '0.0.0.0', port: 443 });
    assert.equal(config.sharedListener, true);
  });

  it('reports every problem at once, each naming its flag', () => {
    const problems = problemsOf(() => loadServeConfig({
      argv: ['--site', join(dir, 'missing'), '--url', 'http://agents.example.com/blog', '--protect', '/a/../b/', '--protect', '/x/=', '--tls-key', 'k.pem', '--listen', 'nowhere'],
      env: {},
    }));
    for (const expected of [/^--site: .* does not exist/, /^--url: must be https/, /^--protect: "\/a\/\.\.\/b\/" must be a plain path/, /^--protect: "\/x\/=" names no group/,
      /^--tls-cert and --tls-key: give both/, /^--listen: "nowhere" is not host:port/]) {
      assert.ok(problems.some((p) => expected.test(p)), `${expected} in ${problems.join(' | ')}`);
    }
  });

  it('checks the certificate and key at start, listing every problem with the files: not PEM, another certificate\'s key, names the URLs do not have', () => {
    const one = makeLocalCa(join(dir, 'ca-one'), ['agents.example.com', 'id.example.com']);
    const other = makeLocalCa(join(dir, 'ca-other'), ['elsewhere.example.com']);
    writeFileSync(join(dir, 'not-a-cert.pem'), 'certificate');
    writeFileSync(join(dir, 'not-a-key.pem'), 'key');
    const https = ['--url', 'https://agents.example.com', '--id-url', 'https://id.example.com'];
    const garbage = problemsOf(() => loadServeConfig({ argv: [...base, ...https, '--tls-cert', join(dir, 'not-a-cert.pem'), '--tls-key', join(dir, 'not-a-key.pem')], env: KEY }));
    assert.ok(garbage.some((p) => /^--tls-cert: .*not-a-cert\.pem holds no certificate/.test(p)), garbage.join(' | '));
    assert.ok(garbage.some((p) => /^--tls-key: .*not-a-key\.pem holds no private key/.test(p)), garbage.join(' | '));
    const mismatched = problemsOf(() => loadServeConfig({ argv: [...base, ...https, '--tls-cert', one.certFile, '--tls-key', other.keyFile], env: KEY }));
    assert.deepEqual(mismatched, [`--tls-key: ${other.keyFile} is not the key of the certificate in ${one.certFile}`]);
    const names = problemsOf(() => loadServeConfig({ argv: [...base, ...https, '--tls-cert', other.certFile, '--tls-key', other.keyFile], env: KEY }));
    assert.deepEqual(names.map((p) => p.replace(/ \(it names .*\)$/, '')), ['agents.example.com', 'id.example.com'].map((host) => `--tls-cert: ${other.certFile} is not valid for ${host}, which browsers will be sent to`));
    assert.match(names[0], /it names DNS:elsewhere\.example\.com\)$/);
    const missing = problemsOf(() => loadServeConfig({ argv: [...base, ...https, '--tls-cert', join(dir, 'nowhere.pem'), '--tls-key', one.keyFile], env: KEY }));
    assert.deepEqual(missing, [`--tls-cert: cannot read ${join(dir, 'nowhere.pem')} (ENOENT)`]);
  });

  it('refuses a provider on the site\'s own origin, and one host name for both on one listener', () => {
    assert.ok(problemsOf(() => loadServeConfig({ argv: [...base, '--id-url', 'http://localhost:8080'], env: KEY })).some((p) => p.startsWith('--id-url: must differ')));
    assert.ok(problemsOf(() => loadServeConfig({ argv: [...base, '--id-url', 'http://localhost:8081', '--id-listen', '127.0.0.1:8080'], env: KEY })).some((p) => /share a host name/.test(p)));
  });

  it('passes on the identity provider\'s own problems, such as a missing ENCRYPTION_KEY off localhost', () => {
    const problems = problemsOf(() => loadServeConfig({ argv: [...base, '--url', 'https://agents.example.com'], env: {} }));
    assert.ok(problems.some((p) => p.startsWith('ENCRYPTION_KEY: required')), problems.join(' | '));
  });

  it('reports the identity provider\'s own problems with an unusable --url or --id-url too, and only once the address\'s', () => {
    const idProblems = { LOG_LEVEL: 'loud', SESSION_DURATION: 'soon' };
    assert.deepEqual(problemsOf(() => loadServeConfig({ argv: [...base, '--url', 'http://agents.example.com'], env: idProblems })), [
      '--url: must be https (http only for localhost), got http://agents.example.com; use https://agents.example.com',
      'ENCRYPTION_KEY: required when APP_URL is not localhost (it encrypts the signing keys); generate one with: openssl rand -base64 32, and keep a copy apart from your backups (a backup cannot sign tokens without it)',
      'LOG_LEVEL: expected one of trace, debug, info, warn, error, got "loud"',
      'SESSION_DURATION: expected a duration such as 720h or 90m, from 5m to 8760h (365 days), got "soon"',
    ]);
    const problems = problemsOf(() => loadServeConfig({ argv: [...base, '--id-url', 'https://10.0.0.1'], env: idProblems }));
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['--id-url', 'ENCRYPTION_KEY', 'LOG_LEVEL', 'SESSION_DURATION'], problems.join(' | '));
  });

  it('reports a problem of a variable that serve and the provider both read once', () => {
    assert.deepEqual(problemsOf(() => loadServeConfig({ argv: base, env: { ...KEY, TRUST_PROXY: 'proxy.local' } })), [
      'TRUST_PROXY: "proxy.local" is not an IP address or CIDR range; use true, false or a comma-separated list of proxy IPs/CIDRs',
    ]);
  });

  it('makes the localhost encryption key in --data at its first start, as latchkey id does (the commands only read it)', () => {
    const data = join(dir, 'data-first-start');
    const config = loadServeConfig({ argv: ['--site', dir, '--data', data], env: {} });
    assert.equal(config.id.encryptionKeyGenerated, true);
    assert.ok(existsSync(join(data, 'encryption.key')));
  });

  it('writes no localhost encryption key when only the id URL is unusable', () => {
    const data = join(dir, 'data-unusable-id-url');
    const problems = problemsOf(() => loadServeConfig({ argv: ['--site', dir, '--data', data, '--id-url', 'http://localhost:8081/id'], env: {} }));
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['--id-url'], problems.join(' | '));
    assert.ok(!existsSync(join(data, 'encryption.key')), 'a configuration that fails leaves nothing behind');
  });

  it('reports a misspelled flag with a suggestion, beside every other problem, and reads the flags that were given', () => {
    const problems = problemsOf(() => loadServeConfig({ argv: [...base, '--sit', 'public', '--url', 'http://agents.example.com', '--trust-proxy=yes', '--listen'], env: KEY }));
    assert.deepEqual(problems, [
      '--sit: unknown option; did you mean --site? (latchkey serve --help lists them all)',
      '--trust-proxy: takes no value, got "yes"',
      '--listen: needs a value (--listen VALUE, or --listen=VALUE when it starts with -)',
      '--url: must be https (http only for localhost), got http://agents.example.com; use https://agents.example.com',
    ]);
  });

  it('refuses a flag read as another flag\'s value, and a stray argument', () => {
    const problems = problemsOf(() => loadServeConfig({ argv: [...base, '--protect', '--url', 'extra'], env: KEY }));
    assert.deepEqual(problems, ['--protect: needs a value (--protect VALUE, or --protect=VALUE when it starts with -)', 'unexpected argument "extra" (flags take the form --name VALUE)']);
  });

  it('passes on the identity provider\'s METRICS_ADDRESS, REDIS_URL and SESSION_DURATION problems', () => {
    const problems = problemsOf(() => loadServeConfig({ argv: base, env: { ...KEY, METRICS_ADDRESS: 'nowhere', REDIS_URL: 'notaurl', SESSION_DURATION: '1ms' } }));
    for (const name of ['METRICS_ADDRESS', 'REDIS_URL', 'SESSION_DURATION']) assert.ok(problems.some((p) => p.startsWith(`${name}:`)), `${name} in ${problems.join(' | ')}`);
  });
});

describe('what serve tells its identity provider about the site', () => {
  const site = (protectedPrefixes: { prefix: string; allowedGroups: string[] }[]) => serveContextFor({ siteOrigin: 'https://example.com', protectedPrefixes }, 5);

  it('sends a signed-in user on to the first section every signed-in user may open, else to the home page', () => {
    assert.equal(site([{ prefix: '/family/', allowedGroups: ['family'] }, { prefix: '/private/', allowedGroups: [] }]).siteUrl, 'https://example.com/private/');
    assert.equal(site([{ prefix: '/family/', allowedGroups: ['family'] }]).siteUrl, 'https://example.com/');
  });

  it('names each group of the --protect rules once, in rule order, for the admin console', () => {
    const rules = [{ prefix: '/a/', allowedGroups: ['family', 'friends'] }, { prefix: '/b/', allowedGroups: [] }, { prefix: '/c/', allowedGroups: ['friends', 'work'] }];
    assert.deepEqual(site(rules).protectGroups, ['family', 'friends', 'work']);
  });
});
