// `latchkey id` and its admin commands as an operator runs them: real processes, one temporary
// database, output and exit codes checked as a script would check them.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { pinnedNode, repoRoot, runLatchkey } from '../helpers/latchkey-cli.ts';

describe('latchkey id and its admin commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-id-cli-'));
  let port: number;
  let origin: string;
  let env: Record<string, string>;
  let server: ChildProcess;
  let serverLog = '';
  let setupLinkFromLog: string;

  before(async () => {
    port = await freePort();
    origin = `http://localhost:${port}`;
    env = { APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dir, 'latchkey.db'), ENCRYPTION_KEY: 'cli-test-encryption-key-0123456789' };
    server = spawn(pinnedNode, ['src/main.ts', 'id'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
    server.stdout!.on('data', (chunk) => { serverLog += chunk; });
    server.stderr!.on('data', (chunk) => { serverLog += chunk; });
    setupLinkFromLog = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no setup link logged within 10 s:\n${serverLog}`)), 10_000);
      server.stdout!.on('data', () => {
        const match = /one-time link: (http:\/\/\S+?)"/.exec(serverLog);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      server.once('exit', (code) => reject(new Error(`latchkey id exited ${code}:\n${serverLog}`)));
    });
  });
  after(() => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs the one-time setup link on APP_URL while no admin exists', async () => {
    assert.match(setupLinkFromLog, new RegExp(`^${origin}/setup\\?token=[\\w-]+$`));
    assert.equal((await fetch(setupLinkFromLog)).status, 200);
  });

  it('answers /healthz with 204', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 204);
  });

  it('passes latchkey healthcheck against the running server, and fails it against a closed port', async () => {
    const closedPort = await freePort();
    const internalUrlFile = join(dir, 'internal-url');
    writeFileSync(internalUrlFile, `http://127.0.0.1:${port}\n`);
    const [healthy, internal, internalFromFile, closed] = await Promise.all([
      runLatchkey(['healthcheck'], { PORT: String(port) }),
      // INTERNAL_APP_URL wins over PORT, which here names the closed port
      runLatchkey(['healthcheck'], { PORT: String(closedPort), INTERNAL_APP_URL: `http://127.0.0.1:${port}/` }),
      runLatchkey(['healthcheck'], { PORT: String(closedPort), INTERNAL_APP_URL_FILE: internalUrlFile }),
      runLatchkey(['healthcheck', '--url', `http://127.0.0.1:${closedPort}/healthz`], {}),
    ]);
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.equal(internal.code, 0, internal.stderr);
    assert.equal(internalFromFile.code, 0, internalFromFile.stderr);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /unhealthy: .* did not answer/);
  });

  it('prints a new setup link, and the one from the log stops working', async () => {
    const run = await runLatchkey(['setup-link'], env);
    assert.equal(run.code, 0, run.stderr);
    const url = /^http:\S+$/m.exec(run.stdout)?.[0];
    assert.match(url ?? '', new RegExp(`^${origin}/setup\\?token=`));
    assert.equal((await fetch(url!)).status, 200);
    assert.equal((await fetch(setupLinkFromLog)).status, 400);
  });

  it('creates an API key that the running server accepts', async () => {
    const run = await runLatchkey(['api-key', 'create', '--name', 'ci', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const { key, name } = JSON.parse(run.stdout) as { key: string; name: string };
    assert.equal(name, 'ci');
    const created = await fetch(`${origin}/api/user-groups`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'friends' }) });
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal((await fetch(`${origin}/api/users`, { headers: { 'x-api-key': 'not-a-key' } })).status, 401);
  });

  it('adds a user into a group, and lists and shows them', async () => {
    const added = await runLatchkey(['user', 'add', '--username', 'alice', '--email', 'alice@example.com', '--group', 'friends'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Added alice\talice@example\.com\tuser\tfriends$/m);
    assert.match(added.stdout, /latchkey one-time-link alice/);
    const [list, shown] = await Promise.all([runLatchkey(['user', 'list', '--json'], env), runLatchkey(['user', 'show', 'alice@example.com'], env)]);
    assert.deepEqual((JSON.parse(list.stdout) as { username: string }[]).map((u) => u.username), ['alice']);
    assert.equal(shown.stdout.trim(), 'alice\talice@example.com\tuser\tfriends');
  });

  it('refuses a group that does not exist (exit 1), and an unknown flag (a usage error, exit 2), with clear errors', async () => {
    const [group, flag] = await Promise.all([
      runLatchkey(['user', 'add', '--username', 'bob', '--group', 'nosuchgroup'], env),
      runLatchkey(['user', 'add', '--username', 'bob', '--colour', 'blue'], env),
    ]);
    assert.equal(group.code, 1);
    assert.match(group.stderr, /No such group: nosuchgroup/);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--colour'/);
    assert.equal(JSON.parse((await runLatchkey(['user', 'list', '--json'], env)).stdout).length, 1, 'bob was not created');
  });

  // the console and the API log these; from the shell they were not logged at all
  it('records in the audit log what it changes: a user update, an API key made and revoked', async () => {
    const events = async () => {
      const listed = await runLatchkey(['user', 'list', '--json'], env);
      assert.equal(listed.code, 0);
      const db = new DatabaseSync(env.DB_CONNECTION_STRING, { readOnly: true });
      try {
        return (db.prepare("SELECT event FROM audit_log WHERE details LIKE '%\"via\":\"cli\"%'").all() as { event: string }[]).map((row) => row.event);
      } finally {
        db.close();
      }
    };
    const before = await events();
    assert.equal((await runLatchkey(['user', 'update', 'alice', '--first-name', 'Alice'], env)).code, 0);
    const made = await runLatchkey(['api-key', 'create', '--name', 'ci', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    // `--` because an ID may start with "-" (base64url), which would otherwise read as a flag.
    assert.equal((await runLatchkey(['api-key', 'revoke', '--', (JSON.parse(made.stdout) as { id: string }).id], env)).code, 0);
    assert.deepEqual((await events()).slice(before.length), ['user_updated', 'api_key_created', 'api_key_revoked']);
  });

  it('refuses a user update flag it would not apply, and contradicting flags, changing nothing', async () => {
    const [rename, both] = await Promise.all([
      runLatchkey(['user', 'update', 'alice', '--username', 'renamed'], env),
      runLatchkey(['user', 'update', 'alice', '--admin', '--no-admin'], env),
    ]);
    assert.notEqual(rename.code, 0);
    assert.match(rename.stderr, /cannot change a username/);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /contradict/);
    assert.match((await runLatchkey(['user', 'show', 'alice'], env)).stdout, /^alice\t.*\tuser\t/m, 'still alice, still not an admin');
  });

  it('says so when a user does not exist', async () => {
    const [show, link] = await Promise.all([runLatchkey(['user', 'show', 'nobody'], env), runLatchkey(['one-time-link', 'nobody'], env)]);
    for (const run of [show, link]) {
      assert.equal(run.code, 1);
      assert.match(run.stderr, /A user "nobody" was not found/);
    }
  });

  it('prints a one-time sign-in link that the running server honours', async () => {
    const run = await runLatchkey(['one-time-link', 'alice', '--expires', '1h'], env);
    assert.equal(run.code, 0, run.stderr);
    const url = /^http:\S+$/m.exec(run.stdout)?.[0] ?? '';
    assert.match(url, new RegExp(`^${origin}/lc/[\\w-]+$`));
    assert.match(await (await fetch(url)).text(), /Continue/);
  });

  it('disables a user', async () => {
    const run = await runLatchkey(['user', 'disable', 'alice'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Disabled alice');
    assert.match((await runLatchkey(['user', 'show', 'alice'], env)).stdout, /\(disabled\)/);
  });

  it('adds a client, printing its id and a secret the running server accepts', async () => {
    const run = await runLatchkey(['client', 'add', '--name', 'agents', '--redirect-uri', 'http://localhost:9/oauth2/callback', '--group', 'friends'], env);
    assert.equal(run.code, 0, run.stderr);
    const clientId = /^Client ID:\s+(\S+)$/m.exec(run.stdout)?.[1];
    const secret = /^Client secret:\s+(\S+)$/m.exec(run.stdout)?.[1];
    assert.ok(clientId && secret, run.stdout);
    const introspect = (password: string) => fetch(`${origin}/api/oidc/introspect`, {
      method: 'POST', body: new URLSearchParams({ token: 'no-such-token' }),
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${password}`).toString('base64')}` },
    });
    assert.equal((await introspect(secret)).status, 200);
    assert.equal((await introspect(`${secret}x`)).status, 401);
  });

  it('adds a client with --json for scripts', async () => {
    const run = await runLatchkey(['client', 'add', '--json', '--id', 'grafana', '--name', 'Grafana', '--redirect-uri', 'http://localhost:9/login/generic_oauth', '--unrestricted'], env);
    assert.equal(run.code, 0, run.stderr);
    const { client, secret } = JSON.parse(run.stdout) as { client: { id: string; unrestricted: boolean }; secret: string };
    assert.equal(client.id, 'grafana');
    assert.equal(client.unrestricted, true);
    assert.match(secret, /^\S{32,}$/);
  });

  it('rotates the signing key, keeping the previous one published', async () => {
    const run = await runLatchkey(['rotate-keys', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const { kid, previousKid } = JSON.parse(run.stdout) as { kid: string; previousKid: string | null };
    assert.ok(kid && previousKid && kid !== previousKid, run.stdout);
    const jwks = (await (await fetch(`${origin}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === previousKid), 'the running server still publishes the key it signs with');
  });

  it('prints its version', async () => {
    const run = await runLatchkey(['version'], {});
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^latchkey \d+\.\d+\.\d+ \(node v24\./);
  });

  it('refuses an unknown command with exit code 2 and the list of commands', async () => {
    const run = await runLatchkey(['frobnicate'], {});
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown command "frobnicate"[\s\S]*setup-link/);
  });

  it('stops promptly with exit code 0 on SIGTERM', async () => {
    const startedAt = Date.now();
    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0, serverLog.slice(-2000));
    assert.ok(Date.now() - startedAt < 3000, `took ${Date.now() - startedAt} ms`);
    assert.match(serverLog, /SIGTERM received/);
  });

  it('exits 2 on a bad configuration, printing every problem', async () => {
    const run = await runLatchkey(['id'], { ...env, APP_URL: 'http://id.example.com/', ENCRYPTION_KEY: 'short', LOG_LEVEL: 'loud', TRUST_PROXY: 'proxy.local' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /Configuration has 5 problems/);
    for (const name of ['APP_URL: passkeys need https', 'APP_URL: must be an origin', 'ENCRYPTION_KEY:', 'LOG_LEVEL:', 'TRUST_PROXY:']) assert.ok(run.stderr.includes(name), `${name} in ${run.stderr}`);
  });
});

describe('latchkey id after the first admin was added from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-id-cli-admin-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('logs no setup link, refuses /setup and refuses latchkey setup-link', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const env = { APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dir, 'latchkey.db'), ENCRYPTION_KEY: 'cli-test-encryption-key-0123456789' };
    const added = await runLatchkey(['user', 'add', '--username', 'root', '--admin'], env);
    assert.equal(added.code, 0, added.stderr);
    const refused = await runLatchkey(['setup-link'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Setup is already complete: an admin exists[\s\S]*latchkey one-time-link/);
    assert.doesNotMatch(refused.stdout, /setup\?token=/);
    const server = spawn(pinnedNode, ['src/main.ts', 'id'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
    let log = '';
    server.stdout.on('data', (chunk) => { log += chunk; });
    server.stderr.on('data', (chunk) => { log += chunk; });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening within 10 s:\n${log}`)), 10_000);
        server.stdout.on('data', () => {
          if (log.includes('latchkey id listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
        server.once('exit', (code) => reject(new Error(`latchkey id exited ${code}:\n${log}`)));
      });
      assert.equal((await fetch(`${origin}/setup?token=anything`)).status, 410);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    // It handles SIGTERM only once start-up, setup link included, is over.
    assert.match(log, /SIGTERM received/);
    assert.doesNotMatch(log, /setup\?token=|No admin yet/);
  });
});
