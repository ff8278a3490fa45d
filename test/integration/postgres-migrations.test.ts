import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
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
