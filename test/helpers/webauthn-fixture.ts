// A fresh in-memory database with users, and a createWebauthn() over it, for the passkey tests.
import { manualClock } from '../../src/core/clock.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { createDatabaseStore, createMemoryStore } from '../../src/storage/ephemeral-store.ts';
import { createWebauthn } from '../../src/webauthn/index.ts';
import { createSoftAuthenticator, type SoftAuthenticatorOptions } from './soft-authenticator.ts';

export const ORIGIN = 'https://id.example.com';
export const RP_ID = 'id.example.com';

/**
 * `store: 'database'` keeps flows in the ephemeral table, as production does by default;
 * `connection`: another database than a fresh in-memory SQLite one (e.g. a PostgreSQL test database).
 */
export async function createWebauthnFixture(options: { store?: 'memory' | 'database'; connection?: string } = {}) {
  const database = await openMigratedDatabase(options.connection ?? ':memory:');
  const clock = manualClock();
  const store = options.store === 'database' ? createDatabaseStore(database.db, clock) : createMemoryStore(clock);
  const webauthn = createWebauthn({ rpId: RP_ID, rpName: 'Example', origin: ORIGIN, store, db: database.db, clock });

  async function addUser(id: string, options: { disabled?: boolean } = {}) {
    const now = clock.nowMs();
    await database.db.insertInto('users').values({
      id, username: id, email: `${id}@example.com`, first_name: id, last_name: 'Tester',
      is_admin: 0, disabled: options.disabled ? 1 : 0, email_verified: 1, created_at: now, updated_at: now,
    }).execute();
    return { userId: id, username: id, displayName: `${id} Tester` };
  }

  const authenticator = (options: Partial<SoftAuthenticatorOptions> = {}) =>
    createSoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...options });

  return { db: database.db, clock, store, webauthn, addUser, authenticator, close: () => database.close() };
}

export type WebauthnFixture = Awaited<ReturnType<typeof createWebauthnFixture>>;
