// `latchkey id` reads Pocket ID's environment; every problem is reported at once, each naming
// the variable to change, so one restart fixes them all.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { ConfigError, type Env } from '../../src/config/problems.ts';
import { configProblems } from '../helpers/config-problems.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-id-config-'));
const KEY = 'a-production-key-0123456789abcdef';
const base: Env = { APP_URL: 'https://id.example.com', ENCRYPTION_KEY: KEY, DB_CONNECTION_STRING: join(dir, 'latchkey.db') };

const load = (env: Env) => loadIdConfig({ env: { ...base, ...env } });
/** As latchkey id and latchkey serve load it: the servers make the localhost key file. */
const loadAsServer = (env: Env) => loadIdConfig({ env: { ...base, ...env }, createsKey: true });

/** The problems loadIdConfig reports for `env`; fails if it accepts it. */
const problemsOf = (env: Env) => configProblems(() => load(env), JSON.stringify(env));

const secretFile = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('loadIdConfig', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('derives the issuer, the WebAuthn origin and the relying-party ID from APP_URL', () => {
    const config = load({});
    assert.equal(config.origin, 'https://id.example.com');
    assert.equal(config.rpId, 'id.example.com');
    assert.equal(config.encryptionKey.toString(), KEY);
    assert.deepEqual(config.warnings, []);
  });

  it('keeps Redis keys under latchkey:ephemeral: unless REDIS_KEY_PREFIX names another prefix', () => {
    assert.equal(load({}).redisKeyPrefix, 'latchkey:ephemeral:');
    assert.equal(load({ REDIS_KEY_PREFIX: 'club-site:' }).redisKeyPrefix, 'club-site:');
  });

  it('reports every problem at once, each naming its variable', () => {
    const problems = problemsOf({ APP_URL: 'https://id.example.com/', TRUST_PROXY: 'proxy.local', ENCRYPTION_KEY: 'short', LOG_LEVEL: 'loud', SESSION_DURATION: 'soon' });
    assert.equal(problems.length, 5, problems.join('\n'));
    for (const name of ['APP_URL', 'TRUST_PROXY', 'ENCRYPTION_KEY', 'LOG_LEVEL', 'SESSION_DURATION'])
      assert.ok(problems.some((p) => p.startsWith(`${name}:`)), `${name} in ${problems.join('\n')}`);
  });

  it('refuses an APP_URL with a trailing slash, saying which origin to use', () => {
    const [problem] = problemsOf({ APP_URL: 'https://id.example.com/' });
    assert.match(problem, /^APP_URL: must be an origin with no path or trailing slash, e\.g\. https:\/\/id\.example\.com$/);
  });

  it('refuses an APP_URL with a path', () => {
    assert.match(problemsOf({ APP_URL: 'https://example.com/id' }).join('\n'), /APP_URL: must be an origin with no path/);
  });

  it('refuses plain http on a host other than localhost, because passkeys need a secure context', () => {
    assert.match(problemsOf({ APP_URL: 'http://id.example.com' }).join('\n'), /APP_URL: passkeys need https .* use https:\/\/id\.example\.com/);
  });

  it('accepts http on localhost and on a *.localhost name', () => {
    assert.equal(load({ APP_URL: 'http://localhost:1411' }).rpId, 'localhost');
    assert.equal(load({ APP_URL: 'http://id.localhost' }).rpId, 'id.localhost');
  });

  it('refuses an IP address, which WebAuthn cannot use as a relying-party ID', () => {
    assert.match(problemsOf({ APP_URL: 'https://192.0.2.10' }).join('\n'), /APP_URL: passkeys cannot use an IP address/);
    assert.match(problemsOf({ APP_URL: 'http://127.0.0.1:1411' }).join('\n'), /APP_URL: passkeys cannot use an IP address/);
    assert.match(problemsOf({ APP_URL: 'https://[2001:db8::1]' }).join('\n'), /APP_URL: passkeys cannot use an IP address/);
  });

  it('refuses an APP_URL that is not a URL', () => {
    assert.match(problemsOf({ APP_URL: 'id.example.com' }).join('\n'), /APP_URL: "id\.example\.com" is not a URL/);
  });

  it('accepts the older PUBLIC_APP_URL with a deprecation warning', () => {
    const config = load({ APP_URL: undefined, PUBLIC_APP_URL: 'https://old.example.com' });
    assert.equal(config.origin, 'https://old.example.com');
    assert.ok(config.warnings.some((w) => /PUBLIC_APP_URL is deprecated.*APP_URL/.test(w)), config.warnings.join('\n'));
  });

  it('names PUBLIC_APP_URL in its problems when that is the variable set', () => {
    assert.match(problemsOf({ APP_URL: undefined, PUBLIC_APP_URL: 'http://old.example.com' }).join('\n'), /^PUBLIC_APP_URL: passkeys need https/m);
  });

  it('reads TRUST_PROXY as true, false, or a list of proxy addresses', () => {
    assert.equal(load({}).trustProxy, false);
    assert.equal(load({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(load({ TRUST_PROXY: '1' }).trustProxy, true);
    assert.equal(load({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.deepEqual(load({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).trustProxy, ['127.0.0.1', '10.0.0.0/8', '::1']);
  });

  it('reads TRUST_PROXY\'s true and false in every spelling the other boolean variables accept (Go\'s ParseBool)', () => {
    for (const text of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(load({ TRUST_PROXY: text }).trustProxy, true, text);
    for (const text of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(load({ TRUST_PROXY: text }).trustProxy, false, text);
  });

  it('refuses a TRUST_PROXY list entry that is not an address or CIDR range, naming the entry', () => {
    const problems = problemsOf({ TRUST_PROXY: '10.0.0.0/8, proxy.internal, 10.1.0.0/99, 10.2.0.0/8/9' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0], /^TRUST_PROXY: "proxy\.internal" is not an IP address/);
    assert.match(problems[1], /^TRUST_PROXY: "10\.1\.0\.0\/99" has an invalid prefix length/);
    // a second "/" is not quietly dropped, which would trust 10.0.0.0/8 where something else was meant
    assert.match(problems[2], /^TRUST_PROXY: "10\.2\.0\.0\/8\/9" is not an IP address or CIDR range/);
  });

  it('requires ENCRYPTION_KEY when APP_URL is not localhost', () => {
    assert.match(problemsOf({ ENCRYPTION_KEY: undefined }).join('\n'), /^ENCRYPTION_KEY: required when APP_URL is not localhost/m);
  });

  it('checks INTERNAL_APP_URL at start, not first when the health check needs it', () => {
    assert.match(problemsOf({ INTERNAL_APP_URL: 'garbage' }).join('\n'), /^INTERNAL_APP_URL: expected an http\(s\):\/\/ address .*got "garbage"/m);
    assert.match(problemsOf({ INTERNAL_APP_URL: 'ftp://127.0.0.1:1411' }).join('\n'), /^INTERNAL_APP_URL:/m);
  });

  it('refuses an ENCRYPTION_KEY shorter than 16 characters, spaces not counted', () => {
    assert.match(problemsOf({ ENCRYPTION_KEY: '123456789012345' }).join('\n'), /^ENCRYPTION_KEY: must be at least 16 characters/m);
    assert.match(problemsOf({ ENCRYPTION_KEY: ' '.repeat(16) }).join('\n'), /^ENCRYPTION_KEY: must be at least 16 characters, not counting spaces/m);
  });

  it('generates and keeps an encryption key beside the database on localhost, with a warning', () => {
    const data = join(dir, 'local');
    const env = { APP_URL: 'http://localhost:1411', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(data, 'latchkey.db') };
    const first = loadAsServer(env);
    assert.equal(first.encryptionKeyGenerated, true);
    assert.ok(existsSync(join(data, 'encryption.key')));
    assert.ok(first.warnings.some((w) => w.startsWith('ENCRYPTION_KEY is not set')));
    assert.deepEqual(loadAsServer(env).encryptionKey, first.encryptionKey, 'the same key on the next start');
    assert.deepEqual(load(env).encryptionKey, first.encryptionKey, 'and the same key for the commands that use the server\'s data');
  });

  it('makes no key for a command that is not the server: a missing key file is a problem naming ENCRYPTION_KEY and the file', () => {
    const data = join(dir, 'local-command');
    const problems = problemsOf({ APP_URL: 'http://localhost:1411', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(data, 'latchkey.db') });
    assert.deepEqual(problems, [`ENCRYPTION_KEY: not set, and there is no key file at ${join(data, 'encryption.key')} (latchkey id and latchkey serve make one there at their first start on localhost); this command uses the server's key and makes none: set ENCRYPTION_KEY (or ENCRYPTION_KEY_FILE) as the server has it (a server on localhost without ENCRYPTION_KEY keeps it in DATA_DIR/encryption.key, the database's folder: run the command with the server's DB_CONNECTION_STRING or DATA_DIR); on a new installation, start the server (latchkey id or latchkey serve) first`]);
    assert.equal(existsSync(data), false, 'nothing was written');
  });

  it('tells a command without ENCRYPTION_KEY off localhost to use the server\'s key, and the server how to generate one', () => {
    assert.match(problemsOf({ ENCRYPTION_KEY: undefined }).join('\n'), /^ENCRYPTION_KEY: required when APP_URL is not localhost \(it encrypts the signing keys\); this command uses the server's key and makes none: set ENCRYPTION_KEY \(or ENCRYPTION_KEY_FILE\) as the server has it/m);
    assert.throws(() => loadAsServer({ ENCRYPTION_KEY: undefined }), (error: ConfigError) => error.problems.join('\n') ===
      'ENCRYPTION_KEY: required when APP_URL is not localhost (it encrypts the signing keys); generate one with: openssl rand -base64 32, and keep a copy apart from your backups (a backup cannot sign tokens without it)');
  });

  it('reports an ENCRYPTION_KEY set twice, or a key file that cannot be read, as that one problem, not as a key missing', () => {
    const local = { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: join(dir, 'local-twice', 'latchkey.db') };
    assert.deepEqual(problemsOf({ ...local, ENCRYPTION_KEY_FILE: secretFile('twice', KEY) }), ['ENCRYPTION_KEY and ENCRYPTION_KEY_FILE are both set; keep one']);
    assert.deepEqual(problemsOf({ ENCRYPTION_KEY: undefined, ENCRYPTION_KEY_FILE: join(dir, 'missing') }).map((p) => p.split(':')[0]), ['ENCRYPTION_KEY_FILE']);
  });

  it('says what the caller gives as the fix for a missing key (restore: the key of the server that made the backup)', () => {
    const env = { ...base, APP_URL: 'http://localhost:1411', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(dir, 'local-restore', 'latchkey.db') };
    assert.throws(() => loadIdConfig({ env, missingKeyFix: 'set the old key' }), (error: ConfigError) =>
      error.problems.length === 1 && /^ENCRYPTION_KEY: not set, and there is no key file at .*; set the old key$/.test(error.problems[0]));
  });

  it('reads a secret from ENCRYPTION_KEY_FILE, trimming the trailing newline', () => {
    const config = load({ ENCRYPTION_KEY: undefined, ENCRYPTION_KEY_FILE: secretFile('key', `${KEY}-from-file\n`) });
    assert.equal(config.encryptionKey.toString(), `${KEY}-from-file`);
  });

  it('reads DB_CONNECTION_STRING_FILE too', () => {
    const config = load({ DB_CONNECTION_STRING: undefined, DB_CONNECTION_STRING_FILE: secretFile('db', 'postgres://u:p@127.0.0.1/test\n') });
    assert.equal(config.dbConnectionString, 'postgres://u:p@127.0.0.1/test');
  });

  it('refuses a variable set both directly and through its _FILE', () => {
    assert.match(problemsOf({ ENCRYPTION_KEY_FILE: secretFile('both', KEY) }).join('\n'), /^ENCRYPTION_KEY and ENCRYPTION_KEY_FILE are both set; keep one$/m);
  });

  it('reports a _FILE that cannot be read', () => {
    assert.match(problemsOf({ ENCRYPTION_KEY: undefined, ENCRYPTION_KEY_FILE: join(dir, 'missing') }).join('\n'), /^ENCRYPTION_KEY_FILE: cannot read .*missing \(ENOENT\)/m);
  });

  it('reads SESSION_DURATION as a Go duration, and a bare number as minutes', () => {
    assert.equal(load({}).sessionDurationSeconds, 720 * 3600);
    assert.equal(load({ SESSION_DURATION: '720h' }).sessionDurationSeconds, 720 * 3600);
    assert.equal(load({ SESSION_DURATION: '1h30m' }).sessionDurationSeconds, 5400);
    assert.equal(load({ SESSION_DURATION: '90' }).sessionDurationSeconds, 5400);
  });

  it('refuses a SESSION_DURATION that is not a duration', () => {
    assert.match(problemsOf({ SESSION_DURATION: 'a month' }).join('\n'), /^SESSION_DURATION: expected a duration such as 720h/m);
  });

  it('refuses an unknown LOG_LEVEL, listing the valid ones', () => {
    assert.match(problemsOf({ LOG_LEVEL: 'verbose' }).join('\n'), /^LOG_LEVEL: expected one of trace, debug, info, warn, error, got "verbose"$/m);
  });

  it('warns that DB_PROVIDER is ignored rather than refusing a Pocket ID environment', () => {
    const config = load({ DB_PROVIDER: 'sqlite' });
    assert.ok(config.warnings.some((w) => /^DB_PROVIDER is ignored/.test(w)), config.warnings.join('\n'));
  });

  // Pocket ID's variable and default: its clean-up job deletes audit entries older than this.
  it('keeps audit entries 90 days unless AUDIT_LOG_RETENTION_DAYS names another whole number of days', () => {
    assert.equal(load({}).auditLogRetentionDays, 90);
    assert.equal(load({ AUDIT_LOG_RETENTION_DAYS: '365' }).auditLogRetentionDays, 365);
    for (const text of ['0', '-5', '1.5', '90d', 'forever'])
      assert.deepEqual(problemsOf({ AUDIT_LOG_RETENTION_DAYS: text }), [`AUDIT_LOG_RETENTION_DAYS: expected a whole number of days, at least 1, got "${text}"`]);
  });

  // oidc/authorization-rate-limit.ts; the default's arithmetic is beside DEFAULT_AUTHORIZE_REQUESTS_PER_MINUTE.
  it('limits each address to 60 authorization requests a minute unless AUTHORIZE_REQUESTS_PER_MINUTE says otherwise; 0 turns it off', () => {
    assert.equal(load({}).authorizeRequestsPerMinute, 60);
    assert.equal(load({ AUTHORIZE_REQUESTS_PER_MINUTE: '600' }).authorizeRequestsPerMinute, 600);
    assert.equal(load({ AUTHORIZE_REQUESTS_PER_MINUTE: '0' }).authorizeRequestsPerMinute, 0);
    for (const text of ['-1', '1.5', '60/m', 'off'])
      assert.deepEqual(problemsOf({ AUTHORIZE_REQUESTS_PER_MINUTE: text }), [`AUTHORIZE_REQUESTS_PER_MINUTE: expected a whole number of requests per minute per address (0 turns the limit off), got "${text}"`]);
  });

  it('refuses a PORT that is not a port number', () => {
    assert.match(problemsOf({ PORT: '70000' }).join('\n'), /^PORT: expected a port number/m);
  });

  it('reports the _FILE and both-set problems of APP_NAME, REDIS_URL, REDIS_KEY_PREFIX and METRICS_ADDRESS too', () => {
    const names = ['APP_NAME', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'METRICS_ADDRESS'];
    const missing = problemsOf(Object.fromEntries(names.map((name) => [`${name}_FILE`, join(dir, 'missing')])));
    for (const name of names) assert.ok(missing.some((p) => p.startsWith(`${name}_FILE: cannot read`)), `${name}_FILE in ${missing.join('\n')}`);
    const both = problemsOf(Object.fromEntries(names.flatMap((name) => [[name, 'x'], [`${name}_FILE`, secretFile(name, 'x')]])));
    for (const name of names) assert.ok(both.includes(`${name} and ${name}_FILE are both set; keep one`), `${name} in ${both.join('\n')}`);
  });

  it('reports an APP_URL that is not https together with the missing ENCRYPTION_KEY, and writes no key', () => {
    const data = join(dir, 'refused');
    const problems = problemsOf({ APP_URL: 'http://id.example.com/', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(data, 'latchkey.db') });
    assert.ok(problems.some((p) => p.startsWith('APP_URL: passkeys need https')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('ENCRYPTION_KEY: required when APP_URL is not localhost')), problems.join('\n'));
    assert.equal(existsSync(data), false, 'nothing was written');
  });

  it('writes no generated key on localhost when another variable has a problem', () => {
    const data = join(dir, 'local-refused');
    assert.throws(() => loadAsServer({ APP_URL: 'http://localhost:1411', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(data, 'latchkey.db'), LOG_LEVEL: 'loud' }), ConfigError);
    assert.throws(() => loadAsServer({ APP_URL: 'not a url', ENCRYPTION_KEY: undefined, DB_CONNECTION_STRING: join(data, 'latchkey.db') }), ConfigError);
    assert.equal(existsSync(data), false, 'nothing was written');
  });

  it('refuses a METRICS_ADDRESS that is not host:port, a HOST that is not an address and a REDIS_URL that is not redis://', () => {
    const problems = problemsOf({ METRICS_ADDRESS: '9100', HOST: '999.1.1.1', REDIS_URL: 'notaurl' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0], /^HOST: "999\.1\.1\.1" is not an IPv4 address/);
    assert.match(problems[1], /^REDIS_URL: expected redis:\/\/\[user:password@\]host\[:port\]\[\/db\] or rediss:\/\/…/);
    assert.match(problems[2], /^METRICS_ADDRESS: "9100" is not host:port/);
    assert.match(problemsOf({ METRICS_ADDRESS: '999.1.1.1:9100' }).join('\n'), /^METRICS_ADDRESS: .*is not an IPv4 address/m);
  });

  it('accepts host names and IPv6 addresses in HOST, and redis:// and rediss:// in REDIS_URL', () => {
    assert.equal(load({ HOST: '::' }).host, '::');
    assert.equal(load({ HOST: 'localhost' }).host, 'localhost');
    assert.equal(load({ REDIS_URL: 'rediss://:secret@redis.internal:6380/2' }).redisUrl, 'rediss://:secret@redis.internal:6380/2');
    assert.equal(load({ METRICS_ADDRESS: ':9100' }).metricsAddress, ':9100');
  });

  it('keeps APP_NAME within the admin console\'s rule, 1–50 characters without control characters, in the one report', () => {
    const problems = problemsOf({ APP_NAME: 'x'.repeat(51), LOG_LEVEL: 'loud' });
    assert.ok(problems.includes('APP_NAME: expected 1–50 characters without line breaks or control characters (the admin console\'s rule), got 51 characters'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('LOG_LEVEL:')), 'reported with the other problems');
    assert.match(problemsOf({ APP_NAME: 'Family\nLogin' }).join('\n'), /^APP_NAME: expected 1–50 characters/m);
    assert.equal(load({ APP_NAME: 'x'.repeat(50) }).appName, 'x'.repeat(50));
  });

  it('keeps SESSION_DURATION within the admin console\'s range, 5m to 8760h', () => {
    for (const text of ['0', '1ms', '4m', '99999999999h', '8761h', '1'])
      assert.match(problemsOf({ SESSION_DURATION: text }).join('\n'), /^SESSION_DURATION: expected a duration such as 720h or 90m, from 5m to 8760h/m, text);
    assert.equal(load({ SESSION_DURATION: '5m' }).sessionDurationSeconds, 300);
    assert.equal(load({ SESSION_DURATION: '8760h' }).sessionDurationSeconds, 8760 * 3600);
  });
});
