import type { Kysely } from 'kysely';

// Recovery codes: single-use sign-in codes a user prints or saves, for when every passkey is lost.
// Only a hash is stored (see src/identity/recovery-codes.ts); used_at marks a code spent, and the
// UPDATE … WHERE used_at IS NULL that spends it lets only one of two concurrent uses win.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('recovery_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('recovery_codes_user_id').on('recovery_codes').column('user_id').execute();
}
