import { sql, type Kysely } from 'kysely';

// lower(username): creating or renaming a user checks the username is free case-insensitively,
// and findByLogin (recovery sign-in, the CLI, the admin's audit filter) matches a username or an
// email. Both compare lower(username), which the unique index on username cannot answer, so each
// read the whole users table: 6–16 ms with 100,000 users on SQLite and PostgreSQL (190 ms with
// the pages not yet cached; bench/data-growth.ts). With this index the username side is a lookup,
// and with email's unique index from 0001 the username-or-email OR is two lookups (SQLite's
// MULTI-INDEX OR, PostgreSQL's BitmapOr). Not unique: a database may already hold two usernames
// differing only in case, and the migration must not fail on it. The queries must spell the
// expression as the index does, lower(username), or the planners will not use it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('users_lower_username').on('users').expression(sql`lower(username)`).execute();
}
