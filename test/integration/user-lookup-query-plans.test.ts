// Creating or renaming a user checks that the username is free, case-insensitively, and sign-in
// recovery, the CLI and the admin's audit filter find people by username or email (findByLogin).
// Both compare lower(username); without an index on that expression each one read the whole
// `users` table, 6–16 ms with 100,000 users (issue #8, target 6; migration 0005 adds the index).
// Each statement is captured on a seeded database and explained on SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompiledQuery } from 'kysely';
import { manualClock } from '../../src/core/clock.ts';
import { createUserStore, type UserStore } from '../../src/identity/users.ts';
import { migrateToLatest } from '../../src/storage/database.ts';
import type { UsersTable } from '../../src/storage/schema.ts';
import { type PlanBackend, planBackends } from '../helpers/query-plans.ts';

/** Enough people that PostgreSQL's planner, given statistics (analyzed, sequential scans allowed), prefers an index to reading them all. */
const SEEDED = 5000;

const cases = planBackends('allowed');

for (const [name, open] of Object.entries(cases)) {
  describe(`looking users up by username on ${name}`, () => {
    const statements: CompiledQuery[] = [];
    let capturing = false;
    let backend: PlanBackend;
    let users: UserStore;

    /** Runs `action` and returns the statements it sent that read `users`. */
    const capture = async (action: () => Promise<unknown>): Promise<CompiledQuery[]> => {
      statements.length = 0;
      capturing = true;
      try {
        await action();
      } finally {
        capturing = false;
      }
      return statements.filter((statement) => /^\s*(select|update|delete)\b/i.test(statement.sql) && /"users"/.test(statement.sql));
    };
    const assertIndexed = async (queries: CompiledQuery[], expectAtLeast: number) => {
      assert.ok(queries.length >= expectAtLeast, `captured ${queries.length} statements reading users`);
      for (const query of queries) assert.equal(await backend.scansWholeTable(query), null, `reads the whole users table: ${query.sql}`);
    };

    before(async () => {
      backend = await open((event) => { if (capturing && event.level === 'query') statements.push(event.query); });
      await migrateToLatest(backend.db);
      const now = Date.now();
      const rows: UsersTable[] = Array.from({ length: SEEDED }, (_, i) => ({
        id: `seed-${i}`, username: `Person${i}`, email: `person${i}@example.com`, first_name: '', last_name: '',
        is_admin: 0, disabled: 0, email_verified: 1, created_at: now, updated_at: now,
      }));
      for (let i = 0; i < rows.length; i += 500) await backend.db.insertInto('users').values(rows.slice(i, i + 500)).execute();
      if (name === 'PostgreSQL') await backend.db.executeQuery(CompiledQuery.raw('analyze users'));
      users = createUserStore(backend.db, manualClock(now));
    });
    after(async () => {
      await backend?.close();
    });

    it('creates a user without reading the whole users table', async () => {
      const queries = await capture(() => users.create({ username: 'Newcomer', email: 'newcomer@example.com' }));
      // The username check and the email check.
      await assertIndexed(queries, 2);
    });

    it('renames a user without reading the whole users table', async () => {
      const queries = await capture(() => users.update('seed-42', { username: 'Renamed42' }));
      await assertIndexed(queries, 2);
    });

    it('finds a user by username or by email (findByLogin) through indexes', async () => {
      let found: unknown;
      const byUsername = await capture(async () => { found = await users.findByLogin('person7'); });
      assert.equal((found as { id: string } | null)?.id, 'seed-7', 'the username matches whatever its case');
      const byEmail = await capture(async () => { found = await users.findByLogin('Person8@Example.com'); });
      assert.equal((found as { id: string } | null)?.id, 'seed-8');
      await assertIndexed([...byUsername, ...byEmail], 2);
    });
  });
}
