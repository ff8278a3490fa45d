import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql, type MigrationProvider } from 'kysely';
import { migrateToLatest, openDatabase, openMigratedDatabase } from '../../src/storage/database.ts';
import { migrationProvider } from '../../src/storage/migrations/index.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/backends.ts';

const allMigrations = async () => Object.keys(await migrationProvider.getMigrations()).sort();

describe('migrations on PostgreSQL with several instances', () => {
  let postgres: TestPostgres;
  beforeEach(async () => { postgres = await createTestPostgres(); });
  afterEach(() => postgres.drop());

  it('lets two instances starting together on a fresh database both open it', async () => {
    const [a, b] = await Promise.all([openMigratedDatabase(postgres.url), openMigratedDatabase(postgres.url)]);
    try {
      const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(a.db);
      assert.deepEqual(rows.rows.map((r) => r.name), await allMigrations());
      assert.equal((await b.db.selectFrom('users').select('id').execute()).length, 0, 'the second instance sees the same schema');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('applies each migration exactly once when instances race', async () => {
    const instances = await Promise.all([1, 2, 3].map(() => openDatabase(postgres.url)));
    try {
      const applied = await Promise.all(instances.map((instance) => migrateToLatest(instance.db)));
      assert.deepEqual(applied.flat().sort(), await allMigrations(), 'every migration applied by one instance, none twice');
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });
});

describe('migrations longer than the query timeouts on PostgreSQL', () => {
  let postgres: TestPostgres;
  beforeEach(async () => { postgres = await createTestPostgres(); });
  afterEach(() => postgres.drop());

  // The real migrations, then one as slow, relative to the lowered timeouts, as an index build on a
  // large table is to the real ones.
  const SLOW_STEP = '9999-slow-step';
  const withSlowStep = (onStart = () => {}): MigrationProvider => ({
    getMigrations: async () => ({
      ...(await migrationProvider.getMigrations()),
      [SLOW_STEP]: { up: async (db) => { onStart(); await sql`select pg_sleep(0.8)`.execute(db); } },
    }),
  });
  // each bound alone: the server's statement_timeout, and the client's query_timeout
  const cases = [{ statementMs: 200, queryMs: 60_000 }, { statementMs: 60_000, queryMs: 200 }];

  for (const timeouts of cases) {
    it(`completes them, and still bounds ordinary queries (${JSON.stringify(timeouts)})`, async () => {
      const database = await openMigratedDatabase(postgres.url, { timeouts, migrations: withSlowStep() });
      try {
        assert.ok(database.migrationsApplied.includes(SLOW_STEP));
        await assert.rejects(sql`select pg_sleep(0.8)`.execute(database.db), /statement timeout|Query read timeout/);
      } finally {
        await database.close();
      }
    });
  }

  it('lets an instance that starts meanwhile wait for the migration lock longer than the timeouts', async () => {
    let slowStepStarted!: () => void;
    const started = new Promise<void>((resolve) => (slowStepStarted = resolve));
    const first = openMigratedDatabase(postgres.url, { migrations: withSlowStep(slowStepStarted) });
    await started;
    const second = openMigratedDatabase(postgres.url, { timeouts: cases[0], migrations: withSlowStep() });
    const [a, b] = await Promise.all([first, second]);
    try {
      assert.deepEqual(a.migrationsApplied, [...(await allMigrations()), SLOW_STEP]);
      assert.deepEqual(b.migrationsApplied, [], 'the second found everything applied once it had the lock');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
