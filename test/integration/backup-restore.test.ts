// latchkey backup / restore through the real command line, against a real latchkey id: a backup
// taken while the server writes restores into a new data folder where the same passkey signs in and
// the same client secret is accepted; damaged archives, wrong keys and newer databases are refused.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import pg from 'pg';
import { createIdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import type { BackupManifest } from '../../src/storage/backup/manifest.ts';
import { restoreBackup } from '../../src/storage/backup/restore-backup.ts';
import { openDatabase, openMigratedDatabase } from '../../src/storage/database.ts';
import { createTestPostgres, POSTGRES_ADMIN_URL, type TestPostgres } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { type CliRun, repoRoot, runLatchkey } from '../helpers/latchkey-cli.ts';
import { authorizeWithPasskey, enrollUser, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE = join(ROOT, 'node_modules/.bin/node');
const KEY = 'test-encryption-key-0123456789abcdef';
const REDIRECT_URI = 'http://localhost:9/oauth2/callback';
const insecure = { execute: [client.allowInsecureRequests] };

interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `latchkey …` as an operator would, in its own process. */
function latchkey(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(NODE, [join(ROOT, 'src/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `latchkey id` on a given port and data folder (a restored one), with the test key. */
async function startIdOn(port: number, dataDir: string): Promise<IdServer> {
  const origin = `http://localhost:${port}`;
  const config = loadIdConfig({ env: { APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'), ENCRYPTION_KEY: KEY, LOG_LEVEL: 'warn' } });
  const id = await createIdApp(config, { logger: false });
  await id.listen();
  return { ...id, origin, port, dataDir };
}

describe('backup and restore of a SQLite latchkey id', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-backup-'));
  const backups = join(work, 'backups');
  let original: IdServer;
  let restored: IdServer | null = null;
  let browser: IdBrowser;
  let alice: { id: string };
  let clientId: string;
  let clientSecret: string;
  let archive: string;
  let port: number;
  let usersWhenBackupStarted = 0;
  let usersWhenBackupEnded = 0;
  const envFor = (dataDir: string, key = KEY) => ({ APP_URL: `http://localhost:${port}`, DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'), ENCRYPTION_KEY: key });

  before(async () => {
    original = await startIdServer({ ENCRYPTION_KEY: KEY });
    port = original.port;
    ({ user: alice, browser } = await enrollUser(original, { username: 'alice', email: 'alice@example.com', groups: ['friends'] }));
    const made = await original.services.clients.create({ name: 'agents', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    clientId = made.client.id;
    clientSecret = made.secret!;
  });
  after(async () => {
    await restored?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes a backup with a manifest while the server keeps inserting users', async () => {
    const { users } = original.services.identity;
    const count = async () => (await users.list()).length;
    usersWhenBackupStarted = await count();
    let writing = true;
    let inserted = 0;
    const load = (async () => {
      // node:sqlite is synchronous: yield to the event loop between inserts, as a server does between requests.
      while (writing) {
        await users.create({ username: `load-${inserted++}`, email: null });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const result = await latchkey(['backup', '--out', backups, '--json'], envFor(original.dataDir));
    writing = false;
    await load;
    usersWhenBackupEnded = await count();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(inserted > 10, `the load inserted only ${inserted} users during the backup`);
    const { path, manifest } = JSON.parse(result.stdout) as { path: string; manifest: BackupManifest };
    archive = path;
    assert.equal(manifest.database.kind, 'sqlite');
    assert.equal(manifest.database.migrations[0], '0001-initial');
    assert.match(manifest.encryptionKeyFingerprint, /^sha256:[0-9a-f]{32}$/);
    assert.ok(!readFileSync(path).includes(KEY), 'the key itself is not in the archive');
    assert.deepEqual(readdirSync(backups), [path.split('/').at(-1)], 'no temporary files are left behind');
  });

  it('refuses to restore over the database of a running server', async () => {
    const result = await latchkey(['restore', archive], envFor(original.dataDir));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /in use \(is latchkey id running\?\)/);
  });

  it('refuses a damaged archive before touching the target', async () => {
    const damaged = join(work, 'damaged.tar.gz');
    const bytes = readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(damaged, bytes);
    const target = join(work, 'damaged-target');
    const result = await latchkey(['restore', damaged], envFor(target));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /The backup is damaged/);
    assert.equal(existsSync(join(target, 'latchkey.db')), false);
  });

  it('refuses a backup whose payload does not match the manifest checksum', async () => {
    // Re-pack with a valid gzip but one changed byte in the database: only the SHA-256 can tell.
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(readFileSync(archive));
    tar[tar.length - 1024 - 512 - 100] ^= 0x01;
    const tampered = join(work, 'tampered.tar.gz');
    writeFileSync(tampered, gzipSync(tar));
    const result = await latchkey(['restore', '--verify', tampered], envFor(join(work, 'tampered-target')));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /SHA-256 of latchkey\.db does not match the manifest/);
  });

  it('refuses to restore with another ENCRYPTION_KEY and names the fingerprint it needs', async () => {
    const target = join(work, 'wrong-key-target');
    const result = await latchkey(['restore', archive], envFor(target, 'another-key-of-enough-length'));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /needs the ENCRYPTION_KEY with fingerprint sha256:[0-9a-f]{32}, but the configured key's is sha256:[0-9a-f]{32}/);
    assert.equal(existsSync(join(target, 'latchkey.db')), false);
  });

  it('verifies a good backup without changing anything', async () => {
    const target = join(work, 'verify-target');
    const result = await latchkey(['restore', '--verify', archive], envFor(target));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /is intact .* nothing was changed/);
    assert.equal(existsSync(join(target, 'latchkey.db')), false);
  });

  it('restores into a fresh data folder where the same passkey signs in and the same client secret works', async () => {
    await original.close();
    const fresh = join(work, 'fresh');
    const result = await latchkey(['restore', archive], envFor(fresh));
    assert.equal(result.code, 0, result.stderr);
    restored = await startIdOn(port, fresh);
    const users = await restored.services.identity.users.list();
    assert.ok(users.length >= usersWhenBackupStarted && users.length <= usersWhenBackupEnded, `a snapshot from one moment: ${users.length} users`);

    const config = await client.discovery(new URL(restored.origin), clientId, undefined, client.ClientSecretBasic(clientSecret), insecure);
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid email', state,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    const outcome = await authorizeWithPasskey(browser, restored, url.href, REDIRECT_URI);
    assert.equal(outcome.signedInWithPasskey, true);
    assert.ok(outcome.callback, `stopped with ${outcome.finalStatus}: ${outcome.finalBody.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(config, outcome.callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    assert.equal(tokens.claims()?.sub, alice.id);
    assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, true);
    const wrongSecret = await client.discovery(new URL(restored.origin), clientId, undefined, client.ClientSecretBasic('not-the-secret'), insecure);
    await assert.rejects(client.tokenIntrospection(wrongSecret, tokens.access_token), 'the restored server still checks the secret');
  });

  it('refuses to replace a database with sign-ins newer than the backup unless --force is given', async () => {
    const dataDir = restored!.dataDir;
    await restored!.close();
    restored = null;
    const refused = await latchkey(['restore', archive], envFor(dataDir));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /has changes from .* after this backup was made .* Add --force/);
    assert.deepEqual(readdirSync(dataDir).filter((name) => name.includes('before-restore')), [], 'nothing was replaced');
    const forced = await latchkey(['restore', '--force', archive], envFor(dataDir));
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /The database it replaced is kept at .*latchkey\.db\.before-restore-/);
  });

  it('restores into the file a symlinked database path points to, leaving the link in place', async () => {
    // the data folder holds a link to the database on a mounted volume, say
    const volume = join(work, 'volume');
    const linked = join(work, 'linked');
    mkdirSync(volume);
    mkdirSync(linked);
    assert.equal((await latchkey(['restore', archive], envFor(volume))).code, 0, 'a database to point at');
    symlinkSync(join(volume, 'latchkey.db'), join(linked, 'latchkey.db'));
    const before = statSync(join(volume, 'latchkey.db')).ino;
    const run = await latchkey(['restore', '--force', archive], envFor(linked));
    assert.equal(run.code, 0, run.stderr);
    assert.ok(lstatSync(join(linked, 'latchkey.db')).isSymbolicLink(), 'the link is still a link');
    assert.notEqual(statSync(join(volume, 'latchkey.db')).ino, before, 'the file on the volume was replaced');
    assert.ok(readdirSync(volume).some((name) => name.startsWith('latchkey.db.before-restore-')), 'and the old one kept beside it');
  });

  it('keeps only the newest backups with --keep', async () => {
    const dataDir = join(work, 'fresh');
    for (let i = 0; i < 3; i++) assert.equal((await latchkey(['backup', '--out', backups, '--keep', '2'], envFor(dataDir))).code, 0);
    const left = readdirSync(backups).sort();
    assert.equal(left.length, 2);
    assert.ok(!left.includes(archive.split('/').at(-1)!), 'the oldest backup was removed');
  });

  it('never removes the backup it has just written, even when an archive in the folder is dated later', async () => {
    const dataDir = join(work, 'fresh');
    // an archive named with a time ahead of ours (a clock that ran ahead, a copy from another host)
    const newest = readdirSync(backups).sort().at(-1)!;
    const future = join(backups, 'latchkey-backup-20990101T000000000Z.tar.gz');
    copyFileSync(join(backups, newest), future);
    const run = await latchkey(['backup', '--out', backups, '--keep', '1', '--json'], envFor(dataDir));
    assert.equal(run.code, 0, run.stderr);
    const written = (JSON.parse(run.stdout) as { path: string }).path;
    assert.deepEqual(readdirSync(backups), [written.split('/').at(-1)!], 'the new backup is the one kept');
  });
});

describe('backup, restore and user with a SQLite DB_CONNECTION_STRING they cannot use', () => {
  // Mode bits do not stop root: as root the commands run without root's power to pass permission
  // checks (runLatchkey's obeyFileModes), so these files' modes stop them as they stop anyone.
  const work = mkdtempSync(join(tmpdir(), 'latchkey-unusable-'));
  chmodSync(work, 0o755);
  const out = join(work, 'out');
  let archive: string;
  const envFor = (db: string) => ({ APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: db, ENCRYPTION_KEY: KEY });
  const run = (args: string[], db: string) => runLatchkey(args, envFor(db), repoRoot, { obeyFileModes: true });
  /** Exit 1 as the commands' other refusals, and one line on stderr: `latchkey <command>: <message>`. */
  const assertRefused = (result: CliRun, command: string, message: string) => {
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, `latchkey ${command}: ${message}\n`);
    assert.equal(result.stdout, '');
  };
  /** Every name under `dir`, with each file's size and time: what "changes nothing" compares. */
  const stateOf = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort()
    .map((name) => { const found = lstatSync(join(dir, name)); return `${name} ${found.isFile() ? `${found.size} ${found.mtimeMs}` : ''}`; });
  /** A copy of latchkey's database, in a new folder under work. */
  const database = (folder: string) => {
    mkdirSync(join(work, folder));
    copyFileSync(join(work, 'good', 'latchkey.db'), join(work, folder, 'latchkey.db'));
    return join(work, folder, 'latchkey.db');
  };

  before(async () => {
    await (await openMigratedDatabase(join(work, 'good', 'latchkey.db'))).close();
    const made = await latchkey(['backup', '--out', join(work, 'backups'), '--json'], envFor(join(work, 'good', 'latchkey.db')));
    assert.equal(made.code, 0, made.stderr);
    archive = (JSON.parse(made.stdout) as { path: string }).path;
    chmodSync(join(work, 'backups'), 0o755);
    chmodSync(archive, 0o644);
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('refuses a file that is not SQLite, naming it, and changes nothing (restore replaces it with --force, keeping it)', async () => {
    const notes = join(work, 'notes', 'notes.txt');
    mkdirSync(join(work, 'notes'), { mode: 0o777 });
    chmodSync(join(work, 'notes'), 0o777);
    writeFileSync(notes, 'my notes, not a database');
    chmodSync(notes, 0o666); // replaced by another user: only a file it may write to may be linked (fs.protected_hardlinks)
    const before = stateOf(join(work, 'notes'));
    const sentence = `${notes} is not a SQLite database, so latchkey changed nothing in it: point DB_CONNECTION_STRING at a new file (latchkey creates it) or at latchkey's own database.`;
    assertRefused(await run(['backup', '--out', out], notes), 'backup', sentence);
    assertRefused(await run(['restore', archive], notes), 'restore', `${sentence} To replace it with this backup all the same (it is kept beside it as notes.txt.before-restore-<time>), add --force.`);
    assert.deepEqual(stateOf(join(work, 'notes')), before);
    assert.deepEqual(readdirSync(out), []);
    const forced = await run(['restore', '--force', archive], notes);
    assert.equal(forced.code, 0, forced.stderr);
    const kept = readdirSync(join(work, 'notes')).find((name) => name.startsWith('notes.txt.before-restore-'));
    assert.equal(readFileSync(join(work, 'notes', kept!), 'utf8'), 'my notes, not a database');
  });

  it('refuses a folder, naming it, and changes nothing', async () => {
    const folder = join(work, 'a-folder');
    mkdirSync(folder, { mode: 0o777 });
    chmodSync(folder, 0o777);
    const sentence = `${folder} is a folder, not a database file, so latchkey changed nothing in it: point DB_CONNECTION_STRING at the database file (such as ${join(folder, 'latchkey.db')}).`;
    assertRefused(await run(['backup', '--out', out], folder), 'backup', sentence);
    for (const args of [['restore', archive], ['restore', '--force', archive]]) assertRefused(await run(args, folder), 'restore', sentence);
    assertRefused(await run(['user', 'list'], folder), 'user', sentence);
    assert.deepEqual(readdirSync(folder), []);
    assert.deepEqual(readdirSync(out), []);
  });

  it('refuses to restore below a file, making no folder', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'keep me');
    for (const target of [join(file, 'latchkey.db'), join(file, 'data', 'latchkey.db')])
      assertRefused(await run(['restore', archive], target), 'restore', `Cannot restore into ${target}: part of that path is a file, not a folder. Nothing was changed.`);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
  });

  it('refuses a database file this user cannot read, in backup, restore and user alike, and changes nothing', async () => {
    const db = database('unreadable');
    chmodSync(db, 0o000);
    const before = stateOf(join(work, 'unreadable'));
    const sentence = `Cannot read the database ${db}: permission denied. Run the command as the user latchkey id runs as, or check DB_CONNECTION_STRING.`;
    assertRefused(await run(['user', 'list'], db), 'user', sentence);
    assertRefused(await run(['backup', '--out', out], db), 'backup', sentence);
    for (const args of [['restore', archive], ['restore', '--force', archive]]) assertRefused(await run(args, db), 'restore', sentence);
    assert.deepEqual(stateOf(join(work, 'unreadable')), before);
    assert.deepEqual(readdirSync(out), []);
  });

  it('says permission denied, not that there is no database, when the database\'s folder may not be searched', async () => {
    const db = database('unsearchable');
    chmodSync(join(work, 'unsearchable'), 0o600);
    const sentence = `Cannot read the database ${db}: permission denied. Run the command as the user latchkey id runs as, or check DB_CONNECTION_STRING.`;
    assertRefused(await run(['backup', '--out', out], db), 'backup', sentence);
    assertRefused(await run(['user', 'list'], db), 'user', sentence);
    chmodSync(join(work, 'unsearchable'), 0o755);
    assert.deepEqual(readdirSync(join(work, 'unsearchable')), ['latchkey.db']);
    assert.deepEqual(readdirSync(out), []);
  });

  it('says the folder cannot be written, not that the backup is damaged, when restore may not write beside the database', async () => {
    const db = database('read-only');
    chmodSync(db, 0o644);
    chmodSync(join(work, 'read-only'), 0o555);
    const before = stateOf(join(work, 'read-only'));
    assertRefused(await run(['restore', '--force', archive], db), 'restore',
      `Cannot restore into ${db}: a folder cannot be made in ${join(work, 'read-only')}: permission denied. Nothing was changed.`);
    assert.deepEqual(stateOf(join(work, 'read-only')), before);
  });
});

/** Adds a user straight into a latchkey database (migrating it first when new). */
async function addUser(url: string, username: string): Promise<void> {
  const database = await openMigratedDatabase(url);
  try {
    const now = Date.now();
    await database.db.insertInto('users').values({ id: `u-${username}`, username, email: null, first_name: '', last_name: '', is_admin: 0, disabled: 0, email_verified: 0, created_at: now, updated_at: now }).execute();
  } finally {
    await database.close();
  }
}

interface RoleDatabase { url: string; role: string; password: string; admin(query: string): Promise<unknown[]>; drop(): Promise<void> }

/**
 * A new database used by a new role with a password: its owner, or (as on managed PostgreSQL) a
 * role that was only granted the public schema of a database that the administrator owns.
 */
async function createRoleDatabase(access: 'owner' | 'grantee'): Promise<RoleDatabase> {
  const database = await createTestPostgres();
  const role = `latchkey_test_role_${randomBytes(6).toString('hex')}`;
  const password = `pass word/@:%${randomBytes(4).toString('hex')}`;
  // as the administrator, in that database
  const admin = async (query: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(query)).rows as unknown[];
    } finally {
      await client.end();
    }
  };
  const name = new URL(database.url).pathname.slice(1);
  await admin(`create role ${role} login password '${password}'`);
  await admin(access === 'owner' ? `alter database ${name} owner to ${role}` : `grant all on schema public to ${role}`);
  const url = new URL(database.url);
  return {
    url: `postgres://${role}:${encodeURIComponent(password)}@${url.host}/${name}`, role, password, admin,
    async drop() {
      await database.drop();
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop role if exists ${role}`);
      } finally {
        await client.end();
      }
    },
  };
}

describe('backup and restore of a PostgreSQL latchkey id', () => {
  let source: TestPostgres;
  let target: TestPostgres;
  const work = mkdtempSync(join(tmpdir(), 'latchkey-pg-backup-'));
  const envFor = (url: string, extra: Record<string, string> = {}) => ({ APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: url, ENCRYPTION_KEY: KEY, ...extra });

  before(async () => {
    source = await createTestPostgres();
    target = await createTestPostgres();
    const database = await openMigratedDatabase(source.url);
    try {
      const now = Date.now();
      await database.db.insertInto('users').values({ id: 'u1', username: 'bob', email: 'bob@example.com', first_name: '', last_name: '', is_admin: 0, disabled: 0, email_verified: 1, created_at: now, updated_at: now }).execute();
    } finally {
      await database.close();
    }
  });
  after(async () => {
    await source.drop();
    await target.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('backs up with pg_dump and restores into another database', async () => {
    const made = await latchkey(['backup', '--out', work, '--json'], envFor(source.url));
    assert.equal(made.code, 0, made.stderr);
    const { path, manifest } = JSON.parse(made.stdout) as { path: string; manifest: { database: { kind: string } } };
    assert.equal(manifest.database.kind, 'postgres');
    const restoredRun = await latchkey(['restore', path], envFor(target.url));
    assert.equal(restoredRun.code, 0, restoredRun.stderr);
    const database = await openMigratedDatabase(target.url);
    try {
      const bob = await database.db.selectFrom('users').select('username').where('id', '=', 'u1').executeTakeFirst();
      assert.equal(bob?.username, 'bob');
    } finally {
      await database.close();
    }
  });

  it('refuses to restore over another application\'s database, whose tables the restore would drop, unless --force', async () => {
    const made = await latchkey(['backup', '--out', work, '--json'], envFor(source.url));
    const { path } = JSON.parse(made.stdout) as { path: string };
    const other = await createTestPostgres();
    try {
      const database = await openDatabase(other.url);
      try {
        await sql`create table invoices (id int primary key, amount int)`.execute(database.db);
        await sql`insert into invoices values (1, 100)`.execute(database.db);
      } finally {
        await database.close();
      }
      const refused = await latchkey(['restore', path], envFor(other.url));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is not a latchkey database: it holds other tables \(invoices\).*Check DB_CONNECTION_STRING, or add --force.*Nothing was changed/);
      const check = await openDatabase(other.url);
      try {
        assert.equal((await sql<{ n: number }>`select count(*)::int as n from invoices`.execute(check.db)).rows[0].n, 1, 'the other application\'s data is untouched');
      } finally {
        await check.close();
      }
      assert.equal((await latchkey(['restore', '--force', path], envFor(other.url))).code, 0, 'with --force it goes ahead');
    } finally {
      await other.drop();
    }
  });

  it('refuses to restore over the database of a running server, even one idle past its pool\'s idle timeout, and --force does not override that', async () => {
    const made = await latchkey(['backup', '--out', work, '--json'], envFor(source.url));
    const { path } = JSON.parse(made.stdout) as { path: string };
    const running = await startIdServer({ DB_CONNECTION_STRING: target.url });
    try {
      // pg's pool closes a connection idle for 10 s; a server between requests is still running.
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      for (const args of [['restore', path], ['restore', '--force', path]]) {
        const refused = await latchkey(args, envFor(target.url));
        assert.equal(refused.code, 1, refused.stdout);
        assert.match(refused.stderr, /is in use \(is latchkey id running\?\): 1 other latchkey connection; stop every instance before restoring\. Nothing was changed\./);
      }
    } finally {
      await running.close();
    }
    const restoredRun = await latchkey(['restore', '--force', path], envFor(target.url));
    assert.equal(restoredRun.code, 0, `once the server has stopped, restore goes ahead (its own connection does not count): ${restoredRun.stderr}`);
  });

  it('never writes the dump through a link, nor into a file, another user placed at the name it used in the temporary folder', async () => {
    const made = await latchkey(['backup', '--out', work, '--json'], envFor(source.url));
    const { path } = JSON.parse(made.stdout) as { path: string };
    // every PostgreSQL restore and verify wrote the whole dump to /tmp/.latchkey.restore-<pid>.partial;
    // a temporary folder of this test's own (os.tmpdir() reads TMPDIR), so it alone is looked at
    const temporary = join(work, 'tmp');
    mkdirSync(temporary);
    const previousTmpdir = process.env.TMPDIR;
    process.env.TMPDIR = temporary;
    const planted = join(temporary, `.latchkey.restore-${process.pid}.partial`);
    const victim = join(work, 'victim.txt');
    writeFileSync(victim, 'a file the link points at');
    const restore = (verifyOnly: boolean) => restoreBackup({
      archivePath: path, dbConnectionString: target.url, encryptionKey: Buffer.from(KEY), force: true, verifyOnly, keyOpensSigningKey: async () => null,
    });
    try {
      symlinkSync(victim, planted);
      await restore(true);
      assert.equal(readFileSync(victim, 'utf8'), 'a file the link points at', 'nothing was written through the link');
      rmSync(planted);
      writeFileSync(planted, 'planted', { mode: 0o644 });
      const theirs = openSync(planted, 'r'); // another user's file, held open to read what is written into it
      try {
        for (const verifyOnly of [true, false]) assert.equal((await restore(verifyOnly)).restored, !verifyOnly);
        const seen = Buffer.alloc(64);
        assert.equal(seen.toString('utf8', 0, readSync(theirs, seen, 0, seen.length, 0)), 'planted', 'nothing was written into their file');
      } finally {
        closeSync(theirs);
      }
      assert.deepEqual(readdirSync(temporary), [`.latchkey.restore-${process.pid}.partial`], 'the private folder it used instead is removed afterwards');
    } finally {
      if (previousTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmpdir;
    }
  });

  for (const access of ['owner', 'grantee'] as const) {
    it(`restores as a role that ${access === 'owner' ? 'owns its database' : 'was only granted the public schema of a database an administrator owns (managed PostgreSQL)'}, undoing the changes made since the backup`, async () => {
      const database = await createRoleDatabase(access);
      try {
        await addUser(database.url, 'carol');
        const made = await latchkey(['backup', '--out', work, '--json'], envFor(database.url));
        assert.equal(made.code, 0, made.stderr);
        const { path } = JSON.parse(made.stdout) as { path: string };
        await addUser(database.url, 'mallory');
        // as a newer version would have added it: a rollback to the backup drops it too
        await database.admin(`create table later_feature (id int); alter table later_feature owner to ${database.role}`);
        const restored = await latchkey(['restore', '--force', path], envFor(database.url));
        assert.equal(restored.code, 0, restored.stderr);
        assert.deepEqual(await database.admin('select username from users order by username'), [{ username: 'carol' }]);
        assert.deepEqual(await database.admin(`select table_name from information_schema.tables where table_name = 'later_feature'`), []);
        assert.deepEqual(await database.admin(`select nspname from pg_namespace where nspname = 'public'`), [{ nspname: 'public' }], 'the schema itself stays');
      } finally {
        await database.drop();
      }
    });
  }

  it('gives pg_dump and psql the password in their environment, never on their command line (which every local user can read)', async () => {
    const database = await createRoleDatabase('owner');
    const recorded = join(work, 'recorded');
    const fakeTools = join(work, 'fake-tools');
    mkdirSync(recorded);
    mkdirSync(fakeTools);
    // stand-ins first on PATH that record what they were given, then run the real tool
    const realTools = (process.env.PATH ?? '').split(':').find((dir) => existsSync(join(dir, 'pg_dump')) && existsSync(join(dir, 'psql')));
    assert.ok(realTools, 'pg_dump and psql are on PATH');
    for (const tool of ['pg_dump', 'psql'])
      writeFileSync(join(fakeTools, tool), `#!/bin/sh\nprintf '%s\\n' "$@" > "${recorded}/${tool}.argv"\nprintf '%s' "\${PGPASSWORD-}" > "${recorded}/${tool}.password"\nexec "${realTools}/${tool}" "$@"\n`, { mode: 0o755 });
    const env = envFor(database.url, { PATH: `${fakeTools}:${process.env.PATH ?? ''}` });
    try {
      await addUser(database.url, 'dora');
      const made = await latchkey(['backup', '--out', work, '--json'], env);
      assert.equal(made.code, 0, made.stderr);
      await addUser(database.url, 'eve');
      const restored = await latchkey(['restore', '--force', (JSON.parse(made.stdout) as { path: string }).path], env);
      assert.equal(restored.code, 0, restored.stderr);
      assert.deepEqual(await database.admin('select username from users order by username'), [{ username: 'dora' }], 'the round trip worked');
      for (const tool of ['pg_dump', 'psql']) {
        const argv = readFileSync(join(recorded, `${tool}.argv`), 'utf8');
        for (const form of [database.password, encodeURIComponent(database.password)]) assert.ok(!argv.includes(form), `${tool}'s command line holds no password: ${argv}`);
        assert.match(argv, new RegExp(`--dbname=postgres://${database.role}@`), `${tool} was given the database`);
        // the server trusts local connections, so the password is seen here, where the tool reads it
        assert.equal(readFileSync(join(recorded, `${tool}.password`), 'utf8'), database.password, `${tool} got the password in PGPASSWORD`);
      }
    } finally {
      await database.drop();
    }
  });

  it('says in one line, naming the database without its password, when PostgreSQL cannot be reached or has no such database', async () => {
    const made = await latchkey(['backup', '--out', work, '--json'], envFor(source.url));
    const { path } = JSON.parse(made.stdout) as { path: string };
    const admin = new URL(POSTGRES_ADMIN_URL);
    const cases = [
      { url: `postgres://latchkey:secret@127.0.0.1:${await freePort()}/latchkey`, reason: 'nothing accepts connections at that address (is PostgreSQL running there?)' },
      { url: `postgres://${admin.username}:secret@${admin.host}/latchkey_test_missing`, reason: 'database "latchkey_test_missing" does not exist there; create it (createdb), or check DB_CONNECTION_STRING' },
    ];
    const out = join(work, 'unreachable-out');
    mkdirSync(out);
    for (const { url, reason } of cases) {
      for (const [command, args] of [['backup', ['backup', '--out', out]], ['restore', ['restore', path]], ['user', ['user', 'list']]] as const) {
        const run = await latchkey([...args], envFor(url));
        assert.equal(run.code, 1, run.stdout);
        assert.equal(run.stderr, `latchkey ${command}: Cannot connect to PostgreSQL at ${url.replace(':secret@', ':***@')}: ${reason}.\n`);
      }
    }
    assert.deepEqual(readdirSync(out), [], 'no backup, no partial file');
  });

  it('says how to install pg_dump when it is missing', async () => {
    const result = await latchkey(['backup', '--out', work], envFor(source.url, { PATH: join(work, 'no-tools-here') }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /pg_dump was not found on PATH; install the PostgreSQL client tools/);
  });
});
