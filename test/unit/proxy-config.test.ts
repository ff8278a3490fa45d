import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Env } from '../../src/config/problems.ts';
import { buildProxyConfig, loadProxyConfig, proxyHelpText } from '../../src/config/proxy-config.ts';
import { envNameOf, optionByFlag, PROXY_OPTIONS } from '../../src/config/proxy-options.ts';
import { UNSUPPORTED_PROXY_OPTIONS } from '../../src/config/proxy-unsupported-options.ts';
import { configProblems } from '../helpers/config-problems.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-proxy-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
const writeTemp = (content: string, name = `file-${++fileCount}`): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const cookieSecretBytes = randomBytes(32);
const cookieSecret = cookieSecretBytes.toString('base64url');
/** The options every configuration needs, so a test can vary one thing. */
const required = ['--client-id=site', '--client-secret=s3cret', '--oidc-issuer-url=https://id.example.com', `--cookie-secret=${cookieSecret}`, '--email-domain=*'];

const load = (argv: string[], env: Env = {}) => loadProxyConfig({ argv, env });

const problemsOf = (run: () => unknown) => configProblems(run);

describe('loadProxyConfig', () => {
  it('loads the deployment guide\'s Step 3 flags exactly as written, with real secrets', () => {
    const clientSecret = randomBytes(24).toString('base64url');
    const guideSecret = randomBytes(32).toString('base64');
    const config = load([
      '--provider=oidc',
      '--client-id=pocket-id-client',
      `--client-secret=${clientSecret}`,
      '--oidc-issuer-url=https://id.ch3ngl0rd.com',
      '--redirect-url=https://agents.ch3ngl0rd.com/oauth2/callback',
      `--cookie-secret=${guideSecret}`,
      '--cookie-secure=true',
      '--cookie-name=_oauth2_proxy',
      '--email-domain=*',
      '--upstream=static://200',
      '--skip-provider-button=true',
      '--pass-authorization-header=true',
      '--set-authorization-header=true',
      '--pass-access-token=true',
      '--cookie-csrf-per-request=true',
      '--cookie-csrf-expire=5m',
    ]);
    assert.equal(config.clientId, 'pocket-id-client');
    assert.equal(config.clientSecret, clientSecret);
    assert.equal(config.oidcIssuerUrl, 'https://id.ch3ngl0rd.com');
    assert.equal(config.redirectUrl, 'https://agents.ch3ngl0rd.com/oauth2/callback');
    assert.deepEqual(config.cookie.secret, Buffer.from(guideSecret, 'base64'));
    assert.equal(config.cookie.name, '_oauth2_proxy');
    assert.deepEqual(config.emailDomains, ['*']);
    assert.deepEqual(config.upstreams, [{ kind: 'static', statusCode: 200 }]);
    assert.equal(config.skipProviderButton && config.passAuthorizationHeader && config.setAuthorizationHeader && config.passAccessToken, true);
    assert.equal(config.cookie.csrfPerRequest, true);
    assert.equal(config.cookie.csrfExpireSeconds, 300);
  });

  it('applies oauth2-proxy\'s defaults, with S256 PKCE on', () => {
    const config = load(required);
    assert.equal(config.cookie.name, '_oauth2_proxy');
    assert.equal(config.cookie.secure, true);
    assert.equal(config.cookie.httpOnly, true);
    assert.equal(config.cookie.path, '/');
    assert.equal(config.cookie.expireSeconds, 168 * 3600);
    assert.equal(config.cookie.refreshSeconds, 0);
    assert.equal(config.cookie.csrfExpireSeconds, 15 * 60);
    assert.equal(config.cookie.sameSite, '');
    assert.deepEqual(config.scopes, ['openid', 'email', 'profile']);
    assert.deepEqual(config.httpAddress, { host: '127.0.0.1', port: 4180 });
    assert.equal(config.proxyPrefix, '/oauth2');
    assert.equal(config.pingPath, '/ping');
    assert.equal(config.readyPath, '/ready');
    assert.equal(config.codeChallengeMethod, 'S256');
    assert.equal(config.oidcEmailClaim, 'email');
    assert.equal(config.oidcGroupsClaim, 'groups');
    assert.equal(config.sessionStoreType, 'cookie');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.proxyWebsockets, true, "oauth2-proxy's default");
  });

  it('turns WebSocket proxying off with --proxy-websockets=false or its variable', () => {
    assert.equal(load([...required, '--proxy-websockets=false']).proxyWebsockets, false);
    assert.equal(load(required, { OAUTH2_PROXY_PROXY_WEBSOCKETS: 'false' }).proxyWebsockets, false);
  });

  it('returns a frozen configuration', () => {
    const config = load(required);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.cookie));
  });

  describe('precedence', () => {
    const file = writeTemp('cookie_name = "from_file"\ncookie_path = "/file"\ncookie_samesite = "strict"\n');
    const env = { OAUTH2_PROXY_CONFIG: file, OAUTH2_PROXY_COOKIE_NAME: 'from_env', OAUTH2_PROXY_COOKIE_PATH: '/env' };

    it('takes a flag over the environment, the file and the default', () => {
      assert.equal(load([...required, '--cookie-name=from_flag'], env).cookie.name, 'from_flag');
    });

    it('takes the environment over the file', () => {
      assert.equal(load(required, env).cookie.name, 'from_env');
    });

    it('takes the file over the default', () => {
      const config = load([...required, `--config=${file}`]);
      assert.equal(config.cookie.name, 'from_file');
      assert.equal(config.cookie.sameSite, 'strict');
    });
  });

  describe('cookie secret', () => {
    it('accepts standard base64 with + and / as `openssl rand -base64 32` prints it', () => {
      const bytes = Buffer.from('fbff' + randomBytes(30).toString('hex'), 'hex');
      const openssl = bytes.toString('base64');
      assert.match(openssl, /^\+\/.*=$/); // the shape oauth2-proxy refuses
      assert.deepEqual(load([...required, `--cookie-secret=${openssl}`]).cookie.secret, bytes);
    });

    it('accepts base64url without padding', () => {
      assert.deepEqual(load(required).cookie.secret, cookieSecretBytes);
    });

    it('uses a 16-character secret that is no AES length in base64 as its raw bytes, as oauth2-proxy does', () => {
      assert.deepEqual(load([...required, '--cookie-secret=0123456789abcdef']).cookie.secret, Buffer.from('0123456789abcdef'));
    });

    it('decodes a 32-character base64url secret to 24 bytes, as oauth2-proxy does', () => {
      const text = randomBytes(24).toString('base64url');
      assert.equal(text.length, 32);
      assert.equal(load([...required, `--cookie-secret=${text}`]).cookie.secret.length, 24);
    });

    it('refuses a secret of 16 spaces, although it has the length of a key', () => {
      const problems = problemsOf(() => load([...required.filter((arg) => !arg.startsWith('--cookie-secret')), `--cookie-secret=${' '.repeat(16)}`]));
      assert.match(problems.join('\n'), /^--cookie-secret \/ OAUTH2_PROXY_COOKIE_SECRET: is only whitespace; .*openssl rand -base64 32/m);
    });

    it('refuses a secret that decodes to 33 bytes, naming the flag and the variable and how to make one', () => {
      const problems = problemsOf(() => load([...required, `--cookie-secret=${randomBytes(33).toString('base64')}`]));
      assert.equal(problems.length, 1);
      assert.match(problems[0], /^--cookie-secret \/ OAUTH2_PROXY_COOKIE_SECRET: must be 16, 24 or 32 bytes.*33 bytes/);
      assert.match(problems[0], /openssl rand -base64 32/);
    });

    it('reads --cookie-secret-file, ignoring the trailing newline', () => {
      const file = writeTemp(`${cookieSecret}\n`);
      const argv = required.filter((arg) => !arg.startsWith('--cookie-secret')).concat(`--cookie-secret-file=${file}`);
      assert.deepEqual(load(argv).cookie.secret, cookieSecretBytes);
    });
  });

  describe('flags', () => {
    it('reads --name value as well as --name=value', () => {
      assert.equal(load([...required, '--cookie-name', 'spaced']).cookie.name, 'spaced');
    });

    it('reads a bare boolean flag as true and --flag=false as false', () => {
      const config = load([...required, '--set-xauthrequest', '--cookie-secure=false']);
      assert.equal(config.setXAuthRequest, true);
      assert.equal(config.cookie.secure, false);
    });

    it('collects a repeated list flag and splits commas', () => {
      const config = load([...required, '--allowed-group=a', '--allowed-group=b,c']);
      assert.deepEqual(config.allowedGroups, ['a', 'b', 'c']);
    });

    it('refuses an unknown flag and suggests the closest known one', () => {
      const problems = problemsOf(() => load([...required, '--cookie-secrue=true']));
      assert.deepEqual(problems.length, 1);
      assert.match(problems[0], /^--cookie-secrue: unknown option; did you mean --cookie-secure\?/);
    });

    it('refuses an oauth2-proxy flag latchkey does not implement by name, without a stray-argument error for its value', () => {
      const problems = problemsOf(() => load([...required, '--htpasswd-file', '/etc/htpasswd', '--ssl-insecure-skip-verify']));
      assert.equal(problems.length, 2);
      assert.match(problems[0], /^--htpasswd-file: not supported by latchkey/);
      assert.match(problems[1], /^--ssl-insecure-skip-verify: not supported by latchkey/);
    });

    it('refuses `--bool false`, which oauth2-proxy would read as true, and shows the right spelling', () => {
      const problems = problemsOf(() => load([...required, '--cookie-secure', 'false']));
      assert.deepEqual(problems, ['unexpected argument "false"; write --cookie-secure=false']);
    });

    it('refuses a provider other than oidc, naming it', () => {
      const problems = problemsOf(() => load([...required, '--provider=github']));
      assert.match(problems[0], /^--provider \/ OAUTH2_PROXY_PROVIDER: "github" is not supported by latchkey/);
    });
  });

  describe('environment', () => {
    it('reads OAUTH2_PROXY_* variables, with lists comma-separated', () => {
      const config = load(required, { OAUTH2_PROXY_WHITELIST_DOMAINS: '.example.com, *.example.org', OAUTH2_PROXY_REVERSE_PROXY: 'true' });
      assert.deepEqual(config.whitelistDomains, ['.example.com', '.example.org']);
      assert.equal(config.reverseProxy, true);
    });

    it('refuses an unknown OAUTH2_PROXY_ variable and suggests the plural one oauth2-proxy expects', () => {
      const problems = problemsOf(() => load(required, { OAUTH2_PROXY_EMAIL_DOMAIN: 'example.com' }));
      assert.match(problems[0], /^OAUTH2_PROXY_EMAIL_DOMAIN: unknown variable; did you mean OAUTH2_PROXY_EMAIL_DOMAINS\?/);
    });

    it('refuses an unsupported oauth2-proxy variable by name', () => {
      const problems = problemsOf(() => load(required, { OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS: 'true' }));
      assert.match(problems[0], /^OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS \(--skip-jwt-bearer-tokens\): not supported by latchkey/);
    });

    it('ignores the variables Kubernetes injects for a Service named oauth2-proxy, and still refuses other unknown ones', () => {
      const serviceLinks = {
        OAUTH2_PROXY_SERVICE_HOST: '10.96.0.12', OAUTH2_PROXY_SERVICE_PORT: '80', OAUTH2_PROXY_SERVICE_PORT_HTTP_METRICS: '80',
        OAUTH2_PROXY_PORT: 'tcp://10.96.0.12:80', OAUTH2_PROXY_PORT_80_TCP: 'tcp://10.96.0.12:80', OAUTH2_PROXY_PORT_80_TCP_ADDR: '10.96.0.12',
        OAUTH2_PROXY_PORT_80_TCP_PORT: '80', OAUTH2_PROXY_PORT_80_TCP_PROTO: 'tcp', OAUTH2_PROXY_PORT_53_UDP_PROTO: 'udp', OAUTH2_PROXY_PORT_9_SCTP: 'sctp://10.96.0.12:9',
      };
      assert.equal(load(required, serviceLinks).clientId, 'site');
      const problems = problemsOf(() => load(required, { ...serviceLinks, OAUTH2_PROXY_PORT_HTTP: '80', OAUTH2_PROXY_SERVICE_HOSTS: 'x', OAUTH2_PROXY_PORT_80_TCP_HOST: 'x' }));
      assert.deepEqual(problems.map((p) => p.split(':')[0]), ['OAUTH2_PROXY_PORT_80_TCP_HOST', 'OAUTH2_PROXY_PORT_HTTP', 'OAUTH2_PROXY_SERVICE_HOSTS']);
    });

    it('leaves variables without the OAUTH2_PROXY_ prefix alone', () => {
      assert.equal(load(required, { PATH: '/usr/bin', OAUTH2_PROXYISH: 'x' }).clientId, 'site');
    });
  });

  describe('secrets from files', () => {
    const withoutClientSecret = required.filter((arg) => !arg.startsWith('--client-secret'));

    it('reads --client-secret-file', () => {
      const file = writeTemp('from-file\n');
      assert.equal(load([...withoutClientSecret, `--client-secret-file=${file}`]).clientSecret, 'from-file');
    });

    it('reads OAUTH2_PROXY_CLIENT_SECRET_FILE', () => {
      const file = writeTemp('from-env-file');
      assert.equal(load(withoutClientSecret, { OAUTH2_PROXY_CLIENT_SECRET_FILE: file }).clientSecret, 'from-env-file');
    });

    it('reads any string option from NAME_FILE, such as OAUTH2_PROXY_REDIS_CONNECTION_URL_FILE', () => {
      const file = writeTemp('redis://:pw@127.0.0.1:6379/0\n');
      const config = load([...required, '--session-store-type=redis'], { OAUTH2_PROXY_REDIS_CONNECTION_URL_FILE: file });
      assert.equal(config.redisConnectionUrl, 'redis://:pw@127.0.0.1:6379/0');
    });

    it('refuses a client secret given both directly and as a file', () => {
      const file = writeTemp('other');
      const problems = problemsOf(() => load([...required, `--client-secret-file=${file}`]));
      assert.match(problems[0], /--client-secret-file are both set/);
    });

    it('reports an unreadable secret file with its path', () => {
      const problems = problemsOf(() => load([...withoutClientSecret, `--client-secret-file=${join(dir, 'missing')}`]));
      assert.match(problems[0], /^--client-secret-file \/ OAUTH2_PROXY_CLIENT_SECRET_FILE: cannot read .*missing \(ENOENT\)/);
    });
  });

  describe('config file', () => {
    it('reads oauth2-proxy TOML keys, lists as arrays or comma-separated strings', () => {
      const file = writeTemp([
        'email_domains = ["example.com", "Example.ORG"]',
        'upstreams = "static://202"',
        'cookie_secure = false',
        'cookie_expire = "12h"',
        'skip_auth_routes = ["GET=^/public/"]',
        'http_address = "0.0.0.0:4181"',
      ].join('\n'));
      const config = load([...required.filter((arg) => !arg.startsWith('--email-domain')), `--config=${file}`]);
      assert.deepEqual(config.emailDomains, ['example.com', 'example.org']);
      assert.deepEqual(config.upstreams, [{ kind: 'static', statusCode: 202 }]);
      assert.equal(config.cookie.secure, false);
      assert.equal(config.cookie.expireSeconds, 12 * 3600);
      assert.equal(config.skipAuthRoutes[0].method, 'GET');
      assert.deepEqual(config.httpAddress, { host: '0.0.0.0', port: 4181 });
    });

    it('refuses an unknown key, suggesting the plural key oauth2-proxy uses', () => {
      const file = writeTemp('email_domain = ["*"]\n');
      const problems = problemsOf(() => load([...required, `--config=${file}`]));
      assert.match(problems[0], /^email_domain in .*: unknown key; did you mean email_domains\?/);
    });

    it('refuses an unsupported key by name', () => {
      const file = writeTemp('htpasswd_file = "/etc/htpasswd"\n');
      const problems = problemsOf(() => load([...required, `--config=${file}`]));
      assert.match(problems[0], /^htpasswd_file in .* \(--htpasswd-file\): not supported by latchkey/);
    });

    it('names the file and the value\'s key when a value from it is wrong', () => {
      const file = writeTemp('cookie_samesite = "sometimes"\n', 'bad.cfg');
      const problems = problemsOf(() => load([...required, `--config=${file}`]));
      assert.match(problems[0], /^--cookie-samesite \/ OAUTH2_PROXY_COOKIE_SAMESITE \(config file bad\.cfg\): must be lax, strict, none or ""/);
    });

    it('reports a TOML syntax error with its line', () => {
      const file = writeTemp('client_id = "a"\ncookie_name = \n');
      const problems = problemsOf(() => load([...required, `--config=${file}`]));
      assert.match(problems[0], /line 2/);
    });

    it('reports a missing config file', () => {
      const problems = problemsOf(() => load([...required, `--config=${join(dir, 'nope.cfg')}`]));
      assert.match(problems[0], /^--config \/ OAUTH2_PROXY_CONFIG: cannot read .*nope\.cfg/);
    });
  });

  describe('durations', () => {
    it('reads Go durations', () => {
      const config = load([...required, '--cookie-expire=1h30m', '--cookie-refresh=1h', '--cookie-csrf-expire=90s']);
      assert.equal(config.cookie.expireSeconds, 5400);
      assert.equal(config.cookie.refreshSeconds, 3600);
      assert.equal(config.cookie.csrfExpireSeconds, 90);
    });

    it('refuses --cookie-expire=0 by name, since a session that ends at sign-in would let nobody in', () => {
      const problems = problemsOf(() => load([...required, '--cookie-expire=0']));
      assert.match(problems[0], /^--cookie-expire \/ OAUTH2_PROXY_COOKIE_EXPIRE: 0 \(a browser-session cookie\) is not supported by latchkey/);
    });

    it('refuses a value that is not a Go duration', () => {
      const problems = problemsOf(() => load([...required, '--cookie-expire=7 days']));
      assert.match(problems[0], /^--cookie-expire \/ OAUTH2_PROXY_COOKIE_EXPIRE: expected a duration/);
    });

    it('refuses a sub-second duration rather than rounding it to "never"', () => {
      const problems = problemsOf(() => load([...required, '--cookie-csrf-expire=300ms']));
      assert.match(problems[0], /must be at least 1s/);
    });

    it('refuses a refresh interval not shorter than the session, as oauth2-proxy does', () => {
      const problems = problemsOf(() => load([...required, '--cookie-expire=1h', '--cookie-refresh=2h']));
      assert.match(problems[0], /^--cookie-refresh \/ OAUTH2_PROXY_COOKIE_REFRESH: must be less than --cookie-expire/);
    });
  });

  describe('skip-auth-route', () => {
    it('reads METHOD=^/regex and a bare ^/regex for every method', () => {
      const routes = load([...required, '--skip-auth-route=get=^/api/status$', '--skip-auth-route=^/public/']).skipAuthRoutes;
      assert.equal(routes[0].method, 'GET');
      assert.ok(routes[0].pathPattern.test('/api/status'));
      assert.ok(!routes[0].pathPattern.test('/api/status/x'));
      assert.equal(routes[1].method, null);
      assert.ok(routes[1].pathPattern.test('/public/a.css'));
    });

    it('translates Go\'s leading (?i) into a case-insensitive regex', () => {
      const [route] = load([...required, '--skip-auth-route=(?i)^/Public/']).skipAuthRoutes;
      assert.ok(route.pathPattern.test('/PUBLIC/x'));
    });

    it('reports a regex that does not compile', () => {
      const problems = problemsOf(() => load([...required, '--skip-auth-route=GET=^/(unclosed']));
      assert.match(problems[0], /^--skip-auth-route \/ OAUTH2_PROXY_SKIP_AUTH_ROUTES: "GET=\^\/\(unclosed": not a valid regular expression/);
    });

    it('refuses the negated METHOD!=regex form instead of reading it as a plain route', () => {
      const problems = problemsOf(() => load([...required, '--skip-auth-route=GET!=^/private/']));
      assert.match(problems[0], /negated form .* not supported by latchkey/);
    });

    it('reads the deprecated --skip-auth-regex as a route for every method', () => {
      const [route] = load([...required, '--skip-auth-regex=^/a=b']).skipAuthRoutes;
      assert.equal(route.method, null);
      assert.ok(route.pathPattern.test('/a=b'));
    });
  });

  describe('http-address', () => {
    const address = (text: string) => load([...required, `--http-address=${text}`]).httpAddress;

    it('reads host:port', () => assert.deepEqual(address('10.0.0.5:8080'), { host: '10.0.0.5', port: 8080 }));
    it('reads :port as every interface', () => assert.deepEqual(address(':4180'), { host: '0.0.0.0', port: 4180 }));
    it('reads http://host:port', () => assert.deepEqual(address('HTTP://127.0.0.1:4180'), { host: '127.0.0.1', port: 4180 }));
    it('reads a bracketed IPv6 address', () => assert.deepEqual(address('[::1]:4180'), { host: '::1', port: 4180 }));

    it('reads a unix socket path, with mode 0660 unless ,mode= says otherwise', () => {
      assert.deepEqual(address('unix:///run/latchkey/proxy.sock'), { socketPath: '/run/latchkey/proxy.sock', socketMode: 0o660 });
      assert.deepEqual(address('UNIX:///run/p.sock,mode=0600'), { socketPath: '/run/p.sock', socketMode: 0o600 });
      assert.deepEqual(address('unix:///run/p.sock,mode=666'), { socketPath: '/run/p.sock', socketMode: 0o666 });
    });

    it('reads fd:N, case-insensitively, as a socket inherited from systemd', () => {
      assert.deepEqual(address('fd:3'), { fd: 3 });
      assert.deepEqual(address('FD:4'), { fd: 4 });
    });

    it('reads the socket forms from OAUTH2_PROXY_HTTP_ADDRESS and the TOML http_address too', () => {
      assert.deepEqual(load(required, { OAUTH2_PROXY_HTTP_ADDRESS: 'fd:3' }).httpAddress, { fd: 3 });
      const file = writeTemp('http_address = "unix:///run/latchkey/proxy.sock"\n', 'socket.cfg');
      assert.deepEqual(load([...required, `--config=${file}`]).httpAddress, { socketPath: '/run/latchkey/proxy.sock', socketMode: 0o660 });
    });

    it('refuses a relative socket path, saying how to write an absolute one', () => {
      const [problem] = problemsOf(() => address('unix://run/p.sock'));
      assert.match(problem, /^--http-address \/ OAUTH2_PROXY_HTTP_ADDRESS: "unix:\/\/run\/p.sock": the socket path must be absolute, e\.g\. unix:\/\/\/run\/latchkey\/proxy\.sock/);
    });

    it('refuses a socket path too long for a unix socket and a folder path', () => {
      assert.match(problemsOf(() => address(`unix:///${'a'.repeat(120)}.sock`))[0], /is 126 bytes; unix sockets allow at most 107/);
      assert.match(problemsOf(() => address('unix:///run/latchkey/'))[0], /names a folder/);
    });

    it('refuses an email domain list written with spaces, which would be one domain nobody has', () => {
      const problems = problemsOf(() => load([...required.filter((arg) => !arg.startsWith('--email-domain')), '--email-domain=example.com example.org']));
      assert.ok(problems.some((p) => /--email-domain.*"example\.com example\.org" is not a domain; separate several with commas/.test(p)), problems.join('\n'));
      assert.deepEqual(load([...required.filter((arg) => !arg.startsWith('--email-domain')), '--email-domain=example.com, example.org']).emailDomains, ['example.com', 'example.org']);
    });

    it('refuses fd:0 to fd:2 and fd: without a number', () => {
      assert.match(problemsOf(() => address('fd:1'))[0], /0, 1 and 2 are stdin, stdout and stderr/);
      assert.match(problemsOf(() => address('fd:socket'))[0], /takes a file descriptor number/);
    });

    it('names every problem of a socket address and of the other options in one error', () => {
      const problems = problemsOf(() => load(['--client-id=site', '--client-secret=s', '--oidc-issuer-url=https://id.example.com', '--email-domain=*',
        '--http-address=unix://p.sock,mode=999,owner=www-data', '--metrics-address=unix:///run/m.sock']));
      const http = problems.find((p) => p.startsWith('--http-address'));
      assert.ok(http, problems.join('\n'));
      assert.match(http, /must be absolute/);
      assert.match(http, /"mode=999": the mode is octal/);
      assert.match(http, /"owner=www-data" is not a socket option/);
      assert.ok(problems.some((p) => /^--metrics-address .*only for latchkey proxy's --http-address/.test(p)), problems.join('\n'));
      assert.ok(problems.some((p) => p.startsWith('--cookie-secret')), problems.join('\n'));
    });

    it('refuses an address without a port', () => {
      assert.match(problemsOf(() => address('localhost'))[0], /is not host:port/);
    });
  });

  describe('other options', () => {
    it('reads every upstream form', () => {
      const upstreams = load([...required, '--upstream=http://127.0.0.1:1313/blog/', `--upstream=file://${dir}#/private/`, `--upstream=file://${dir}/`]).upstreams;
      assert.equal(upstreams[0].kind === 'http' && upstreams[0].url.href, 'http://127.0.0.1:1313/blog/');
      assert.deepEqual(upstreams[1], { kind: 'file', directory: dir, path: '/private/' });
      assert.deepEqual(upstreams[2], { kind: 'file', directory: `${dir}/`, path: `${dir}/` });
    });

    it('refuses static:// without a status code rather than answering 200', () => {
      assert.match(problemsOf(() => load([...required, '--upstream=static://ok']))[0], /static:\/\/ needs an HTTP status code/);
    });

    it('reads --authenticated-emails-file lower-cased, skipping blank lines and comments', () => {
      const file = writeTemp('# staff\nAlice@Example.com\n\n  bob@example.org  \n');
      const argv = required.filter((arg) => !arg.startsWith('--email-domain')).concat(`--authenticated-emails-file=${file}`);
      assert.deepEqual([...(load(argv).authenticatedEmails ?? [])], ['alice@example.com', 'bob@example.org']);
    });

    it('reads the file as CSV whose first column is the address, as oauth2-proxy does (a name beside it, a quoted address)', () => {
      const file = writeTemp('ann@example.com,Ann Example\n"Bob@Example.org",Bob\ncarol@example.net , Carol\n');
      const argv = required.filter((arg) => !arg.startsWith('--email-domain')).concat(`--authenticated-emails-file=${file}`);
      assert.deepEqual([...(load(argv).authenticatedEmails ?? [])], ['ann@example.com', 'bob@example.org', 'carol@example.net']);
    });

    it('refuses a file with a line whose first column is not one address, naming the line', () => {
      const file = writeTemp('ann@example.com\nbob@example.org carol@example.net\n"we""ird"@example.net,x\n');
      const argv = required.filter((arg) => !arg.startsWith('--email-domain')).concat(`--authenticated-emails-file=${file}`);
      assert.deepEqual(problemsOf(() => load(argv)).map((p) => p.replace(/^.*line (\d+).*$/, '$1')), ['2', '3']);
    });

    it('requires an email rule, as oauth2-proxy does', () => {
      const problems = problemsOf(() => load(required.filter((arg) => !arg.startsWith('--email-domain'))));
      assert.match(problems[0], /^--email-domain \/ OAUTH2_PROXY_EMAIL_DOMAINS: set it, or --authenticated-emails-file/);
    });

    it('adds the groups scope when --allowed-group is set and --scope is not', () => {
      assert.deepEqual(load([...required, '--allowed-group=family']).scopes, ['openid', 'email', 'profile', 'groups']);
      assert.deepEqual(load([...required, '--allowed-group=family', '--scope=openid email']).scopes, ['openid', 'email']);
    });

    it('refuses plain PKCE', () => {
      assert.match(problemsOf(() => load([...required, '--code-challenge-method=plain']))[0], /plain is not supported by latchkey/);
    });

    it('validates --trusted-proxy-ip entries as IPs or CIDR ranges', () => {
      assert.deepEqual(load([...required, '--trusted-proxy-ip=10.0.0.0/8,::1']).trustedProxyIps, ['10.0.0.0/8', '::1']);
      assert.match(problemsOf(() => load([...required, '--trusted-proxy-ip=10.0.0.0/33']))[0], /^--trusted-proxy-ip .*invalid prefix length/);
    });

    it('requires --redis-connection-url with the redis session store', () => {
      assert.match(problemsOf(() => load([...required, '--session-store-type=redis']))[0], /^--redis-connection-url .*: required with --session-store-type=redis/);
    });

    it('refuses a plain-http issuer that is not on this machine', () => {
      assert.match(problemsOf(() => load([...required, '--oidc-issuer-url=http://id.example.com']))[0], /must be https/);
      assert.equal(load([...required, '--oidc-issuer-url=http://localhost:1411']).oidcIssuerUrl, 'http://localhost:1411');
    });

    it('reads latchkey\'s --oidc-internal-url and OAUTH2_PROXY_OIDC_INTERNAL_URL', () => {
      assert.equal(load(required, { OAUTH2_PROXY_OIDC_INTERNAL_URL: 'http://latchkey-id:1411' }).oidcInternalUrl, 'http://latchkey-id:1411');
    });
  });

  it('reports every problem at once, each naming its flag and variable', () => {
    const problems = problemsOf(() => load(['--cookie-secret=short', '--cookie-expire=soon', '--nope'], { OAUTH2_PROXY_TYPO: 'x' }));
    const expected = [/^--nope: unknown option/, /^OAUTH2_PROXY_TYPO: unknown variable/, /^--client-id \/ OAUTH2_PROXY_CLIENT_ID: required/,
      /^--client-secret \/ OAUTH2_PROXY_CLIENT_SECRET: required/, /^--oidc-issuer-url \/ OAUTH2_PROXY_OIDC_ISSUER_URL: required/,
      /^--cookie-secret \/ OAUTH2_PROXY_COOKIE_SECRET: must be 16, 24 or 32 bytes/, /^--cookie-expire \/ OAUTH2_PROXY_COOKIE_EXPIRE: expected a duration/,
      /^--email-domain \/ OAUTH2_PROXY_EMAIL_DOMAINS: set it/];
    for (const pattern of expected) assert.ok(problems.some((problem) => pattern.test(problem)), `missing ${pattern} in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expected.length);
  });
});

describe('buildProxyConfig', () => {
  const base = { 'client-id': 'site', 'client-secret': 's', 'oidc-issuer-url': 'http://localhost:1411', 'cookie-secret': cookieSecret, 'email-domain': ['*'] };

  it('builds the same configuration as the equivalent flags', () => {
    assert.deepEqual(buildProxyConfig({ ...base, 'cookie-secure': false, 'cookie-expire': '1h' }),
      load(['--client-id=site', '--client-secret=s', '--oidc-issuer-url=http://localhost:1411', `--cookie-secret=${cookieSecret}`, '--email-domain=*', '--cookie-secure=false', '--cookie-expire=1h']));
  });

  it('applies the same checks, and refuses a name that is no option', () => {
    const problems = problemsOf(() => buildProxyConfig({ ...base, 'cookie-secret': 'x', 'cookie-secur': true }));
    assert.equal(problems.length, 2);
    assert.ok(problems.some((problem) => /^cookie-secur: not a proxy option here; did you mean cookie-secure\?/.test(problem)));
    assert.ok(problems.some((problem) => /^--cookie-secret \/ OAUTH2_PROXY_COOKIE_SECRET: must be/.test(problem)));
  });
});

describe('proxyHelpText', () => {
  it('lists every option with its environment variable', () => {
    const text = proxyHelpText();
    for (const option of PROXY_OPTIONS) {
      assert.ok(text.includes(`--${option.flag}`), `--${option.flag} missing`);
      assert.ok(text.includes(envNameOf(option)), `${envNameOf(option)} missing`);
    }
  });
});

describe('the option tables', () => {
  it('refuse every unsupported oauth2-proxy flag by name, never as unknown', () => {
    // one accepted whatever its value (--pass-basic-auth) is never refused on its own
    for (const option of UNSUPPORTED_PROXY_OPTIONS.filter((o) => o.accepts !== 'any')) {
      // a switch latchkey always has one way is refused the other way (and accepted as it is, below)
      const argv = option.alwaysIs !== undefined ? [`--${option.flag}=${!option.alwaysIs}`] : option.bool ? [`--${option.flag}`] : [`--${option.flag}=x`];
      const problems = problemsOf(() => load([...required, ...argv]));
      assert.equal(problems.length, 1, `--${option.flag}: ${problems.join('; ')}`);
      assert.match(problems[0], new RegExp(`^--${option.flag}(=(true|false|x))?: not supported by latchkey`));
    }
  });

  it('accept a switch given the setting latchkey always has, from a flag, a variable or the file, and refuse the other setting saying so', () => {
    const always = UNSUPPORTED_PROXY_OPTIONS.filter((option) => option.alwaysIs !== undefined);
    assert.ok(always.some((option) => option.flag === 'pass-host-header' && option.alwaysIs === true));
    assert.ok(always.some((option) => option.flag === 'insecure-oidc-skip-nonce' && option.alwaysIs === false), "oauth2-proxy's default is true; latchkey always checks the nonce");
    for (const option of always) {
      const flag = option.alwaysIs ? [`--${option.flag}`, `--${option.flag}=true`] : [`--${option.flag}=false`];
      for (const arg of flag) assert.equal(load([...required, arg]).clientId, 'site', arg);
      const variable = `OAUTH2_PROXY_${option.flag.replaceAll('-', '_').toUpperCase()}`;
      assert.equal(load(required, { [variable]: option.alwaysIs ? 'True' : '0' }).clientId, 'site', variable);
      const file = writeTemp(`${option.flag.replaceAll('-', '_')} = ${option.alwaysIs}\n`);
      assert.equal(load([...required, `--config=${file}`]).clientId, 'site', `${option.flag} in a file`);
    }
    const problems = problemsOf(() => load([...required, '--pass-host-header=false']));
    assert.deepEqual(problems, [`--pass-host-header=false: not supported by latchkey; latchkey's upstream proxying is not tunable beyond --upstream-timeout and --proxy-websockets (latchkey always works as --pass-host-header=true, and accepts that)`]);
  });

  it('never list an option as both supported and unsupported', () => {
    for (const option of UNSUPPORTED_PROXY_OPTIONS) assert.equal(optionByFlag(option.flag), undefined, option.flag);
  });

  it('are all documented in docs/configuration-proxy.md with their variables', () => {
    const doc = readFileSync(new URL('../../docs/configuration-proxy.md', import.meta.url), 'utf8');
    for (const option of PROXY_OPTIONS) assert.ok(doc.includes(`\`${envNameOf(option)}\``), `${envNameOf(option)} undocumented`);
    for (const option of UNSUPPORTED_PROXY_OPTIONS) assert.ok(doc.includes(`\`--${option.flag}\``), `--${option.flag} undocumented`);
  });
});
