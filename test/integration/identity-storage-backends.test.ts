// The identity provider's storage cases on SQLite and on PostgreSQL (each suite in a fresh database).
import { identityStorageContract } from '../contract/identity-storage.ts';
import { createTestPostgres } from '../helpers/backends.ts';

identityStorageContract('SQLite', { create: async () => ({ connection: ':memory:', drop: async () => {} }) });

identityStorageContract('PostgreSQL', {
  async create() {
    const postgres = await createTestPostgres();
    return { connection: postgres.url, drop: postgres.drop };
  },
});
