// A database made by the first schema (test/fixtures/schema-0001, migration 0001-initial only)
// is upgraded by the current `latchkey id` on start, and what it held still works: the user's
// passkey signs in, the client's secret is accepted, the sealed signing key opens.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import { createIdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { appliedMigrations } from '../../src/storage/backup/database-facts.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { authorizeWithPasskey } from '../helpers/id-passkey-flow.ts';
import type { IdServer } from '../helpers/id-server.ts';
import type { ExportedCredential } from '../helpers/soft-authenticator.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE_DIR = join(ROOT, 'test/fixtures/schema-0001');
const fixture = JSON.parse(readFileSync(join(FIXTURE_DIR, 'fixture.json'), 'utf8')) as {
  encryptionKey: string; userId: string; clientId: string; clientSecret: string; redirectUri: string; passkey: ExportedCredential;
};
const insecure = { execute: [client.allowInsecureRequests] };

describe('upgrading a database made by the first schema', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-upgrade-'));
  const dbPath = join(dataDir, 'latchkey.db');
  let id: IdServer;

  before(() => copyFileSync(join(FIXTURE_DIR, 'latchkey.db'), dbPath));
  after(async () => {
    await id?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is reported by latchkey version --db with the migrations latchkey id will apply', async () => {
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/main.ts'), 'version', '--db', dbPath, '--json']);
    const result = JSON.parse(stdout) as { database: { applied: string[]; pending: string[] } };
    assert.deepEqual(result.database.applied, ['0001-initial']);
    assert.ok(result.database.pending.includes('0002-oidc-pkce-and-payload-account'));
  });

  it('is migrated to the current schema when latchkey id starts, each migration recorded', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const config = loadIdConfig({ env: { APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: dbPath, ENCRYPTION_KEY: fixture.encryptionKey, LOG_LEVEL: 'warn' } });
    const app = await createIdApp(config, { logger: false });
    await app.listen();
    id = Object.assign(app, { origin, port, dataDir });
    const known = Object.keys(await migrationProvider.getMigrations()).sort();
    assert.ok(known.length > 1, 'there is something to upgrade');
    assert.deepEqual(await appliedMigrations(id.services.database.db), known);
  });

  it('still signs the user in with her passkey and accepts the client secret', async () => {
    const browser = idBrowser(id.origin);
    browser.authenticator.importCredential(fixture.passkey);
    const config = await client.discovery(new URL(id.origin), fixture.clientId, undefined, client.ClientSecretBasic(fixture.clientSecret), insecure);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: fixture.redirectUri, scope: 'openid email groups', state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    const outcome = await authorizeWithPasskey(browser, id, url.href, fixture.redirectUri);
    assert.equal(outcome.signedInWithPasskey, true);
    assert.ok(outcome.callback, `stopped with ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(config, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    const claims = tokens.claims()!;
    assert.equal(claims.sub, fixture.userId);
    assert.deepEqual(claims.groups, ['friends']);
    // The ID token is signed with the key the first version sealed with ENCRYPTION_KEY.
    const kid = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0], 'base64url').toString()).kid as string;
    const keys = await id.services.database.db.selectFrom('signing_keys').select('kid').execute();
    assert.deepEqual(keys.map((k) => k.kid), [kid]);
  });

  it('keeps setup closed: its admin was made before setup kept a completion record', async () => {
    assert.equal(await id.services.identity.setup.isComplete(), true);
    assert.equal((await fetch(`${id.origin}/setup?token=anything`)).status, 410);
  });
});

describe('starting latchkey id on a database of another version', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-upgrade-cli-'));
  const node = join(ROOT, 'node_modules/.bin/node');
  const envFor = (dbPath: string, port: number) => ({
    PATH: process.env.PATH ?? '', APP_URL: `http://localhost:${port}`, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: dbPath, ENCRYPTION_KEY: fixture.encryptionKey,
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('logs the migrations it applies to an older database', async () => {
    const dbPath = join(dataDir, 'older.db');
    copyFileSync(join(FIXTURE_DIR, 'latchkey.db'), dbPath);
    const server = spawn(node, [join(ROOT, 'src/main.ts'), 'id'], { env: envFor(dbPath, await freePort()) });
    let log = '';
    server.stdout.on('data', (chunk) => { log += chunk; });
    server.stderr.on('data', (chunk) => { log += chunk; });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening within 10 s:\n${log}`)), 10_000);
        server.stdout.on('data', () => { if (log.includes('latchkey id listening')) { clearTimeout(timer); resolve(); } });
        server.once('exit', (code) => reject(new Error(`latchkey id exited ${code}:\n${log}`)));
      });
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    const pending = Object.keys(await migrationProvider.getMigrations()).sort().slice(1);
    assert.ok(log.includes(`applied database migrations: ${pending.join(', ')}`), log);
  });

  it('is not upgraded by an admin command, which says to restart the server first', async () => {
    const dbPath = join(dataDir, 'command.db');
    copyFileSync(join(FIXTURE_DIR, 'latchkey.db'), dbPath);
    const applied = () => { const sqlite = new DatabaseSync(dbPath); try { return sqlite.prepare('select name from kysely_migration order by name').all().map((row) => row.name); } finally { sqlite.close(); } };
    const before = applied();
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(node, [join(ROOT, 'src/main.ts'), 'user', 'list'], { env: envFor(dbPath, 9) }, (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }));
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^latchkey user: this database has not been upgraded to this latchkey yet \(it lacks .*\); restart latchkey id \(or serve\) with this version first/);
    assert.deepEqual(applied(), before, 'a server still running the older version keeps the tables it knows');
  });

  it('is refused in words, the same words latchkey version --db uses, when a newer latchkey migrated it', async () => {
    const dbPath = join(dataDir, 'newer.db');
    copyFileSync(join(FIXTURE_DIR, 'latchkey.db'), dbPath);
    const sqlite = new DatabaseSync(dbPath);
    sqlite.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999-from-a-newer-latchkey', new Date().toISOString());
    sqlite.close();
    const sentence = 'this database is newer than this latchkey (it has 9999-from-a-newer-latchkey); use a newer latchkey or restore a backup made before the upgrade';
    const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(node, [join(ROOT, 'src/main.ts'), ...args], { env: envFor(dbPath, 9) }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
    });
    const [started, version] = await Promise.all([run(['id']), run(['version', '--db', dbPath])]);
    assert.equal(started.code, 1);
    assert.equal(started.stderr.trim(), `latchkey id: ${sentence}.`);
    assert.ok(version.stdout.includes(sentence), version.stdout);
  });
});
