// DB_CONNECTION_STRING pointed at another application's database (Pocket ID's SQLite file, a
// PostgreSQL database with tables of its own): latchkey id printed "The database could not be
// upgraded" and a stack trace, after adding its kysely_migration tables to that database (and
// switching a SQLite file to WAL). Found in a walkthrough. Now it is refused in one sentence, and
// nothing in it changes; a new or empty database, and latchkey's own of any age, still migrate.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { MigrationProvider } from 'kysely';
import pg from 'pg';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/backends.ts';
import { freePort } from '../helpers/free-port.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

const ENCRYPTION_KEY = 'foreign-database-test-key-0123456789';
const ROOT = new URL('../../', import.meta.url).pathname;

// Some of Pocket ID's tables, with rows; "users" and "oidc_clients" are names latchkey uses too.
const POCKET_ID_SCHEMA = `
  create table schema_migrations (version integer primary key, dirty numeric not null);
  insert into schema_migrations values (20250101000000, 0);
  create table users (id text primary key, username text not null unique, email text, is_admin numeric not null default false);
  insert into users values ('u1', 'alice', 'alice@example.com', 1);
  create table oidc_clients (id text primary key, name text, secret text, callback_urls blob);
  insert into oidc_clients values ('c1', 'wiki', 'hash', '["https://wiki.example/cb"]');
  create table webauthn_credentials (id text primary key, user_id text references users(id), credential_id blob);
  create table app_config_variables (key text primary key, value text not null);
  insert into app_config_variables values ('appName', 'Pocket ID');
  create table user_groups (id text primary key, name text not null);
  create table audit_logs (id text primary key, event text not null);
`;

const allMigrations = async () => Object.keys(await migrationProvider.getMigrations()).sort();
const onlyFirst: MigrationProvider = { getMigrations: async () => ({ '0001-initial': (await migrationProvider.getMigrations())['0001-initial'] }) };

/** The refusal, as one line: the database, what it holds, that nothing changed, what to do. */
const REFUSAL = /is not latchkey's database: it holds tables latchkey did not make \(app_config_variables, audit_logs, oidc_clients, schema_migrations, user_groups, and 2 more\) and no record of latchkey's migrations, so latchkey changed nothing in it; point DB_CONNECTION_STRING at (a new file for latchkey to create|an empty database for latchkey) \(latchkey does not import Pocket ID's data: see docs\/configuration-id\.md\)\./;

describe('a SQLite file of another application', () => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-foreign-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let count = 0;
  /** A copy of Pocket ID's file, closed as Pocket ID leaves it: in WAL mode (its default) or not. */
  const pocketIdFile = (journal: 'wal' | 'delete', extra = '') => {
    const path = join(dir, `pocket-id-${++count}.db`);
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA journal_mode = ${journal}; ${POCKET_ID_SCHEMA} ${extra}`);
    db.close();
    return path;
  };
  /** The file's bytes, and every file beside it (a -wal or -shm made by opening it). */
  const stateOf = (path: string) => ({ bytes: readFileSync(path), files: readdirSync(dir).filter((f) => f.startsWith(path.split('/').at(-1)!)).sort() });

  for (const journal of ['wal', 'delete'] as const) {
    it(`stops latchkey id in one sentence and leaves the file as it was (journal_mode=${journal})`, async () => {
      const path = pocketIdFile(journal);
      const before = stateOf(path);
      const run = await runLatchkey(['id'], { APP_URL: 'http://localhost:1411', HOST: '127.0.0.1', PORT: String(await freePort()), DB_CONNECTION_STRING: path, ENCRYPTION_KEY });
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, new RegExp(`^latchkey id: ${path.replace(/[.]/g, '\\.')} ${REFUSAL.source}\n$`), run.stderr);
      assert.match(run.stderr, /point DB_CONNECTION_STRING at a new file for latchkey to create/);
      assert.deepEqual(stateOf(path), before, 'not a byte changed, and no file was added beside it');
    });
  }

  it('is refused by the admin commands too, with nothing changed', async () => {
    const path = pocketIdFile('wal');
    const before = stateOf(path);
    const run = await runLatchkey(['user', 'list'], { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: path, ENCRYPTION_KEY });
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, new RegExp(`^latchkey user: ${path.replace(/[.]/g, '\\.')} ${REFUSAL.source}\n$`), run.stderr);
    assert.deepEqual(stateOf(path), before);
  });

  it('is refused by latchkey backup in the same words, with no archive written', async () => {
    const path = pocketIdFile('wal');
    const before = stateOf(path);
    const out = mkdtempSync(join(tmpdir(), 'latchkey-foreign-backup-'));
    try {
      const run = await runLatchkey(['backup', '--out', out], { DB_CONNECTION_STRING: path, ENCRYPTION_KEY });
      assert.notEqual(run.code, 0, run.stdout);
      assert.match(run.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')} ${REFUSAL.source}`), run.stderr);
      assert.deepEqual(readdirSync(out), [], 'no archive, no partial file left');
      assert.deepEqual(stateOf(path), before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('is refused after an older latchkey left its migration tables in it, empty', async () => {
    const path = pocketIdFile('delete', 'create table kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null); create table kysely_migration_lock (id varchar(255) not null primary key, is_locked integer not null default 0);');
    const before = stateOf(path);
    await assert.rejects(openMigratedDatabase(path), (error: Error) => REFUSAL.test(error.message));
    assert.deepEqual(stateOf(path), before);
  });

  it("is refused when its kysely_migration lists another application's migrations", async () => {
    const path = join(dir, 'other-kysely-app.db');
    const db = new DatabaseSync(path);
    db.exec(`create table kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null);
      insert into kysely_migration values ('2024-01-01-create-posts', '2024-01-01T00:00:00.000Z');
      create table posts (id integer primary key, title text);`);
    db.close();
    const before = stateOf(path);
    await assert.rejects(openMigratedDatabase(path), { code: 'database_not_latchkey', message: /it holds another application's migrations in kysely_migration \(2024-01-01-create-posts\) and tables latchkey did not make \(posts\)/ });
    assert.deepEqual(stateOf(path), before);
  });

  it('is refused in words when it is not a SQLite database at all', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database; '.repeat(10));
    const before = stateOf(path);
    await assert.rejects(openMigratedDatabase(path), { code: 'database_not_sqlite', message: /notes\.txt is not a SQLite database, so latchkey changed nothing in it/ });
    assert.deepEqual(stateOf(path), before);
  });

  it('still migrates a new file, an empty file, and one where only the migration tables were made', async () => {
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const bookkeeping = join(dir, 'bookkeeping.db');
    const db = new DatabaseSync(bookkeeping);
    db.exec('create table kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null); create table kysely_migration_lock (id varchar(255) not null primary key, is_locked integer not null default 0);');
    db.close();
    for (const path of [join(dir, 'new', 'latchkey.db'), empty, bookkeeping]) {
      const database = await openMigratedDatabase(path);
      try {
        assert.deepEqual(database.migrationsApplied, await allMigrations(), path);
      } finally {
        await database.close();
      }
    }
  });

  it("still upgrades latchkey's own database of the first schema", async () => {
    const path = join(dir, 'schema-0001.db');
    copyFileSync(join(ROOT, 'test/fixtures/schema-0001/latchkey.db'), path);
    const database = await openMigratedDatabase(path);
    try {
      assert.deepEqual(database.migrationsApplied, (await allMigrations()).filter((name) => name !== '0001-initial'));
    } finally {
      await database.close();
    }
    assert.ok(existsSync(path));
  });
});

describe('a PostgreSQL database of another application', () => {
  let postgres: TestPostgres;
  let client: pg.Client;
  beforeEach(async () => {
    postgres = await createTestPostgres();
    client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await postgres.drop();
  });

  /** Every table and schema of the database, outside PostgreSQL's own. */
  const catalog = async () => ({
    tables: (await client.query<{ t: string }>(`select table_schema || '.' || table_name as t from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') order by 1`)).rows.map((r) => r.t),
    schemas: (await client.query<{ s: string }>(`select schema_name as s from information_schema.schemata order by 1`)).rows.map((r) => r.s),
  });

  it('stops latchkey id and the admin commands in one sentence, and creates nothing in it', async () => {
    await client.query(POCKET_ID_SCHEMA.replace(/ blob/g, ' bytea').replace('version integer', 'version bigint').replace(/ numeric/g, ' boolean')
      .replace('20250101000000, 0', '20250101000000, false').replace("'alice@example.com', 1", "'alice@example.com', true"));
    const before = await catalog();
    const name = postgres.url.replace(/[.?*+^$()[\]{}|\\/]/g, '\\$&');
    const id = await runLatchkey(['id'], { APP_URL: 'http://localhost:1411', HOST: '127.0.0.1', PORT: String(await freePort()), DB_CONNECTION_STRING: postgres.url, ENCRYPTION_KEY });
    assert.equal(id.code, 1, id.stdout);
    assert.match(id.stderr, new RegExp(`^latchkey id: ${name} ${REFUSAL.source}\n$`), id.stderr);
    assert.match(id.stderr, /point DB_CONNECTION_STRING at an empty database for latchkey/);
    const command = await runLatchkey(['user', 'list'], { APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: postgres.url, ENCRYPTION_KEY });
    assert.equal(command.code, 1, command.stdout);
    assert.match(command.stderr, new RegExp(`^latchkey user: ${name} ${REFUSAL.source}\n$`), command.stderr);
    assert.deepEqual(await catalog(), before, 'no table and no schema was created');
    assert.deepEqual((await client.query('select username from users')).rows, [{ username: 'alice' }]);
  });

  it('still migrates an empty database', async () => {
    const database = await openMigratedDatabase(postgres.url);
    await database.close();
    assert.deepEqual(database.migrationsApplied, await allMigrations());
  });

  it("still upgrades latchkey's own database of an older schema", async () => {
    const older = await openMigratedDatabase(postgres.url, { migrations: onlyFirst });
    await older.close();
    assert.deepEqual(older.migrationsApplied, ['0001-initial']);
    const database = await openMigratedDatabase(postgres.url);
    await database.close();
    assert.deepEqual(database.migrationsApplied, (await allMigrations()).filter((name) => name !== '0001-initial'));
  });
});
