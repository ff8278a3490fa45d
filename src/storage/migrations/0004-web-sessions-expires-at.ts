import type { Kysely } from 'kysely';

// web_sessions.expires_at: the expiry sweep (sweepExpired, every five minutes) deletes the id's
// expired sign-in sessions. Without an index it read the whole table each time: with 200,000
// stored sessions, 10 ms of the id's event loop on SQLite (bench/data-growth.ts), growing with
// every session kept. The other swept tables (ephemeral, oidc_payloads) had their index from 0001.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('web_sessions_expires_at').on('web_sessions').column('expires_at').execute();
}
