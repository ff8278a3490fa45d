import type { Kysely } from 'kysely';

// oidc_clients.require_pkce: a confidential client may opt in to PKCE (public clients always use it).
// oidc_payloads.account_id: lets logoutUser() find one user's sessions and grants without scanning
// every payload (oidc-provider keeps the account only inside the JSON).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_clients')
    .addColumn('require_pkce', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('oidc_payloads').addColumn('account_id', 'text').execute();
  await db.schema.createIndex('oidc_payloads_account_id').on('oidc_payloads').column('account_id').execute();
}
