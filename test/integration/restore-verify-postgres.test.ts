// latchkey restore --verify of a PostgreSQL backup loads the dump into a scratch database, as a
// restore would load it, and checks what it loaded against the manifest, as it checks a SQLite
// snapshot: a dump that would not restore, or does not match its manifest, is refused before the
// day it is needed. The configured database is never touched, and the scratch one is dropped.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { systemClock } from '../../src/core/clock.ts';
import { ensureSigningKey } from '../../src/oidc/keys.ts';
import { extractArchive, sha256OfFile, writeArchive } from '../../src/storage/backup/archive.ts';
import type { BackupManifest } from '../../src/storage/backup/manifest.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { createTestPostgres, POSTGRES_ADMIN_URL, type TestPostgres } from '../helpers/backends.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

const KEY = 'test-encryption-key-0123456789abcdef';
const envFor = (url: string, key = KEY) => ({ APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: url, ENCRYPTION_KEY: key });

async function adminQuery<T>(text: string, url = POSTGRES_ADMIN_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The databases a role owns: other tests make and drop databases meanwhile, never as this file's roles. */
const databasesOf = async (role: string) =>
  (await adminQuery<{ datname: string }>(`select datname from pg_database where datdba = (select oid from pg_roles where rolname = '${role}') order by 1`)).map((row) => row.datname);

/** A new role that owns a new, empty database: its connection string (trust auth: no password). */
async function roleWithDatabase(role: string, createdb: boolean): Promise<{ url: string; database: TestPostgres }> {
  const database = await createTestPostgres();
  await adminQuery(`create role ${role} login ${createdb ? 'createdb' : 'nocreatedb'}`);
  await adminQuery(`alter database ${new URL(database.url).pathname.slice(1)} owner to ${role}`);
  const url = new URL(database.url);
  url.username = role;
  return { url: url.toString(), database };
}
const tablesOf = async (url: string) => (await adminQuery<{ name: string }>(`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`, url)).map((row) => row.name);

describe('latchkey restore --verify of a PostgreSQL backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-verify-pg-'));
  // verifies as a role of its own, which may create databases: the scratch ones are the databases it owns besides its own
  const verifier = `latchkey_test_verifier_${randomBytes(4).toString('hex')}`;
  let source: TestPostgres;
  let target: { url: string; database: TestPostgres };
  let scratchDatabases: () => Promise<string[]>;
  let archive: string;
  let manifest: BackupManifest;
  let dump: string;

  /** The backup with its dump or manifest changed, and a checksum that matches again: only loading it can tell. */
  async function repacked(name: string, change: { dump?: (text: string) => string; manifest?: (m: BackupManifest) => BackupManifest }): Promise<string> {
    const payload = join(work, `${name}.sql`);
    writeFileSync(payload, (change.dump ?? ((text) => text))(dump));
    const { sha256, bytes } = await sha256OfFile(payload);
    const changed = (change.manifest ?? ((m) => m))(structuredClone(manifest));
    const path = join(work, `${name}.tar.gz`);
    await writeArchive(path, { ...changed, database: { ...changed.database, sha256, bytes } }, payload, join(work, `${name}.tmp`));
    return path;
  }

  before(async () => {
    source = await createTestPostgres();
    target = await roleWithDatabase(verifier, true);
    const own = new URL(target.url).pathname.slice(1);
    scratchDatabases = async () => (await databasesOf(verifier)).filter((name) => name !== own);
    const database = await openMigratedDatabase(source.url);
    try {
      await ensureSigningKey(database.db, systemClock, Buffer.from(KEY), 'ES256');
    } finally {
      await database.close();
    }
    const made = await runLatchkey(['backup', '--out', join(work, 'out'), '--json'], envFor(source.url));
    assert.equal(made.code, 0, made.stderr);
    ({ path: archive, manifest } = JSON.parse(made.stdout) as { path: string; manifest: BackupManifest });
    dump = readFileSync((await extractArchive(archive, join(work, 'dump.sql'))).payloadPath, 'utf8');
  });
  after(async () => {
    await source.drop();
    await target.database.drop();
    await adminQuery(`drop role if exists ${verifier}`);
    rmSync(work, { recursive: true, force: true });
  });

  it('passes a good backup, leaving the configured database as it was and no scratch database behind', async () => {
    const run = await runLatchkey(['restore', '--verify', archive], envFor(target.url));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /is intact .* loads into PostgreSQL; nothing was changed/);
    assert.deepEqual(await tablesOf(target.url), [], 'the configured database is still empty');
    assert.deepEqual(await scratchDatabases(), []);
  });

  it("drops the scratch databases a stopped --verify left hours ago, keeps a recent one, and names one it cannot drop (doctor warns of it)", async () => {
    const hoursAgo = (hours: number) => Math.floor(Date.now() / 1000) - hours * 3600;
    const [left, recent, stuck] = [`latchkey_verify_${hoursAgo(7)}_aaaaaaaaaaaa`, `latchkey_verify_${hoursAgo(0)}_bbbbbbbbbbbb`, `latchkey_verify_${hoursAgo(8)}_cccccccccccc`];
    for (const name of [left, recent, stuck]) await adminQuery(`create database ${name} owner ${verifier}`);
    await adminQuery(`alter database ${stuck} is_template true`); // PostgreSQL refuses to drop a template database
    try {
      const run = await runLatchkey(['restore', '--verify', archive], envFor(target.url));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await scratchDatabases(), [recent, stuck].sort());
      assert.match(run.stderr + run.stdout, new RegExp(`The scratch database ${stuck}, left by a --verify that was stopped, could not be dropped .*dropdb ${stuck}`));
      const check = (await runDoctor(['--json', '--offline', '--backup-dir', join(work, 'out')], { env: envFor(target.url) })).byId('backups');
      assert.equal(check.status, 'warn', check.detail);
      assert.match(check.detail, new RegExp(`verified as latchkey restore --verify does .*; but The scratch database ${stuck}`));
    } finally {
      await adminQuery(`alter database ${stuck} is_template false`);
      for (const name of [left, recent, stuck]) await adminQuery(`drop database if exists ${name}`);
    }
  });

  it('finds the tables of a deployment in a schema of its own, as search_path finds them there', async () => {
    const schemaSource = await createTestPostgres();
    const name = new URL(schemaSource.url).pathname.slice(1);
    try {
      await adminQuery(`create schema latchkey`, schemaSource.url);
      await adminQuery(`alter database ${name} set search_path to latchkey`);
      const database = await openMigratedDatabase(schemaSource.url);
      try {
        await ensureSigningKey(database.db, systemClock, Buffer.from(KEY), 'ES256');
      } finally {
        await database.close();
      }
      const made = await runLatchkey(['backup', '--out', join(work, 'schema-out'), '--json'], envFor(schemaSource.url));
      assert.equal(made.code, 0, made.stderr);
      const { path } = JSON.parse(made.stdout) as { path: string };
      const run = await runLatchkey(['restore', '--verify', path], envFor(target.url));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await scratchDatabases(), []);
    } finally {
      await schemaSource.drop();
    }
  });

  it('refuses a dump that does not load, though its checksum matches', async () => {
    const broken = await repacked('broken', { dump: (text) => text.replace(/(COPY public\.users [^\n]*\n)/, '$1not\ta valid row\n') });
    const run = await runLatchkey(['restore', '--verify', broken], envFor(target.url));
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /^latchkey restore: The database in this backup does not load into PostgreSQL \(psql: line \d+ of the dump: ERROR: missing data for column "email" CONTEXT: COPY users, line 1: .*\); nothing was changed\. Use another backup\.\n$/);
    assert.deepEqual(await scratchDatabases(), []);
    assert.deepEqual(await tablesOf(target.url), []);
  });

  it('refuses a dump whose migrations are not the ones its manifest lists', async () => {
    const fewer = await repacked('fewer', { manifest: (m) => ({ ...m, database: { ...m.database, migrations: m.database.migrations.slice(0, -1) } }) });
    const run = await runLatchkey(['restore', '--verify', fewer], envFor(target.url));
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr, 'latchkey restore: The database in this backup does not match its manifest; nothing was changed. Use another backup.\n');
  });

  it('refuses a dump whose signing key the configured ENCRYPTION_KEY does not open, though the manifest names that key', async () => {
    const otherKey = 'another-key-of-enough-length-0123';
    const { encryptionKeyFingerprint } = await import('../../src/storage/backup/manifest.ts');
    const misnamed = await repacked('misnamed', { manifest: (m) => ({ ...m, encryptionKeyFingerprint: encryptionKeyFingerprint(Buffer.from(otherKey)) }) });
    const run = await runLatchkey(['restore', '--verify', misnamed], envFor(target.url, otherKey));
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr, 'latchkey restore: The configured ENCRYPTION_KEY does not open the signing key in this backup; nothing was changed.\n');
    assert.deepEqual(await scratchDatabases(), []);
  });

  it('says in one line that the role may not create databases, and changes nothing', async () => {
    const role = `latchkey_test_nocreatedb_${randomBytes(4).toString('hex')}`;
    const { url, database } = await roleWithDatabase(role, false);
    try {
      const before = await databasesOf(role);
      const run = await runLatchkey(['restore', '--verify', archive], envFor(url));
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stderr, `latchkey restore: --verify loads a PostgreSQL backup into a scratch database (dropped afterwards), and ${role}, the role of ${url}, may not create databases; let it (as an administrator: ALTER ROLE ${role} CREATEDB), or verify with a DB_CONNECTION_STRING of a role that may. Nothing was changed.\n`);
      assert.equal(run.stdout, '');
      assert.deepEqual(await databasesOf(role), before, 'no database was made');
      assert.deepEqual(await tablesOf(database.url), []);

      // doctor's backups check says the same, and still checks the archive itself
      const check = (await runDoctor(['--json', '--offline', '--backup-dir', join(work, 'out')], { env: envFor(url) })).byId('backups');
      assert.equal(check.status, 'ok', check.detail);
      assert.match(check.detail, /the archive is intact .*, but whether it restores was not checked: --verify loads a PostgreSQL backup into a scratch database .* may not create databases/);
      assert.deepEqual(await databasesOf(role), before, 'no database was made by doctor either');
    } finally {
      await database.drop();
      await adminQuery(`drop role if exists ${role}`);
    }
  });
});
