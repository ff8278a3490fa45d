// latchkey serve reads some of the identity provider's variables itself (APP_URL for --id-url,
// HOST and PORT for --listen, TRUST_PROXY for --trust-proxy) and passes the rest on to it. Each may
// also be given as NAME_FILE (Docker and Kubernetes secrets), as for latchkey id: serve used to pass
// the user's NAME_FILE on beside the NAME it had set itself, and refused it as "both set".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, type Env } from '../../src/config/problems.ts';
import { loadServeConfig } from '../../src/config/serve-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-serve-file-variables-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = 'test-encryption-key-0123456789abcdef';
const site = ['--site', dir];
const data = ['--data', join(dir, 'data')];

/** The configuration (as JSON: URLs as their address, the key as its bytes), or the problems. */
function outcomeOf(argv: string[], env: Env): { config: unknown } | { problems: readonly string[] } {
  try {
    return { config: JSON.parse(JSON.stringify(loadServeConfig({ argv, env }))) };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems };
    throw error;
  }
}

let files = 0;
/** `env` with `name` given as NAME_FILE: a file holding the value, with the newline a secret file often ends in. */
function asFile(env: Env, name: string): Env {
  const path = join(dir, `${name.toLowerCase()}-${files++}`);
  writeFileSync(path, `${env[name]}\n`);
  return { ...env, [name]: undefined, [`${name}_FILE`]: path };
}

const cases: { name: string; when: string; argv: string[]; env: Env }[] = [
  // read by serve itself
  { name: 'APP_URL', when: 'the provider\'s address', argv: [...site, ...data, '--url', 'https://agents.example.com'], env: { ENCRYPTION_KEY: KEY, APP_URL: 'https://login.example.com' } },
  { name: 'APP_URL', when: 'ignored under --id-url', argv: [...site, ...data, '--url', 'https://agents.example.com', '--id-url', 'https://id.example.com'], env: { ENCRYPTION_KEY: KEY, APP_URL: 'https://login.example.com' } },
  { name: 'APP_URL', when: 'refused when not https', argv: [...site, ...data, '--url', 'https://agents.example.com'], env: { ENCRYPTION_KEY: KEY, APP_URL: 'http://login.example.com' } },
  { name: 'PUBLIC_APP_URL', when: 'not read by serve', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, PUBLIC_APP_URL: 'https://login.example.com' } },
  { name: 'HOST', when: 'where the site listens', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, HOST: '0.0.0.0' } },
  { name: 'HOST', when: 'an IPv6 address', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, HOST: '::' } },
  { name: 'HOST', when: 'ignored under --listen', argv: [...site, ...data, '--listen', '127.0.0.1:9000'], env: { ENCRYPTION_KEY: KEY, HOST: '0.0.0.0' } },
  { name: 'HOST', when: 'refused when not an address', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, HOST: '999.1.1.1' } },
  { name: 'PORT', when: 'where the site listens', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, PORT: '9000' } },
  { name: 'PORT', when: 'refused when not a port', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, PORT: '99999' } },
  { name: 'TRUST_PROXY', when: 'a list of proxies', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: '127.0.0.1,::1' } },
  { name: 'TRUST_PROXY', when: 'any peer, with its warning', argv: [...site, ...data, '--listen', '0.0.0.0:8080'], env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: '1' } },
  { name: 'TRUST_PROXY', when: 'ignored under --trust-proxy', argv: [...site, ...data, '--trust-proxy'], env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: 'true' } },
  { name: 'TRUST_PROXY', when: 'refused when not an address', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, TRUST_PROXY: 'proxy.local' } },
  // passed on to the identity provider
  { name: 'ENCRYPTION_KEY', when: 'the key', argv: [...site, ...data, '--url', 'https://agents.example.com'], env: { ENCRYPTION_KEY: KEY } },
  { name: 'ENCRYPTION_KEY', when: 'refused when short', argv: [...site, ...data], env: { ENCRYPTION_KEY: 'short' } },
  { name: 'DB_CONNECTION_STRING', when: 'a SQLite file, winning over --data', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, DB_CONNECTION_STRING: join(dir, 'other.db') } },
  { name: 'DB_CONNECTION_STRING', when: 'PostgreSQL', argv: site, env: { ENCRYPTION_KEY: KEY, DB_CONNECTION_STRING: 'postgres://latchkey:secret@127.0.0.1/latchkey' } },
  { name: 'DATA_DIR', when: 'where the localhost key is kept', argv: site, env: { ENCRYPTION_KEY: KEY, DATA_DIR: join(dir, 'keys') } },
  { name: 'DATA_DIR', when: 'ignored under --data', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, DATA_DIR: join(dir, 'keys') } },
  { name: 'SESSION_DURATION', when: 'the session length', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, SESSION_DURATION: '24h' } },
  { name: 'APP_NAME', when: 'the name on the pages', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, APP_NAME: 'Family site' } },
  { name: 'REDIS_URL', when: 'short-lived state in Redis', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, REDIS_URL: 'redis://127.0.0.1:6379/2' } },
  { name: 'METRICS_ADDRESS', when: 'the metrics listener', argv: [...site, ...data], env: { ENCRYPTION_KEY: KEY, METRICS_ADDRESS: '127.0.0.1:9100' } },
];

describe('latchkey serve and NAME_FILE variables', () => {
  for (const { name, when, argv, env } of cases) {
    it(`takes ${name}_FILE as it takes ${name}: ${when}`, () => {
      const plain = outcomeOf(argv, env);
      assert.deepEqual(outcomeOf(argv, asFile(env, name)), plain);
    });
  }

  it('still refuses a variable set both directly and as NAME_FILE, once', () => {
    const values: Env = { APP_URL: 'https://login.example.com', HOST: '0.0.0.0', PORT: '9000', TRUST_PROXY: 'true', ENCRYPTION_KEY: KEY, DB_CONNECTION_STRING: join(dir, 'other.db') };
    for (const name of Object.keys(values)) {
      const env = { ENCRYPTION_KEY: KEY, [name]: values[name] };
      const both = { ...asFile(env, name), [name]: values[name] };
      assert.deepEqual(outcomeOf([...site, ...data, '--url', 'https://agents.example.com'], both), { problems: [`${name} and ${name}_FILE are both set; keep one`] }, name);
    }
  });
});
