// Two admins, scripts or instances creating the same user, group or client at the same moment: the
// stores check the name first and insert after, so several can pass the check, and the database's
// unique constraint refuses all but one insert. Each refusal must reach the caller as the same 409
// the check gives (username_taken, email_taken, group_taken, client_id_taken), never as a 500.
// On PostgreSQL two instances (each its own connection pool) create side by side, as two
// latchkey id processes behind one load balancer do.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { isAppError } from '../../src/core/errors.ts';
import { createIdentity, type Identity } from '../../src/identity/index.ts';
import { createClientsService } from '../../src/oidc/clients.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';
import { createTestPostgres } from '../helpers/backends.ts';

const ATTEMPTS = 8;

interface Backend {
  /** Two handles on one new database (two instances), and how to remove it. */
  open(): Promise<{ instances: Database[]; drop(): Promise<void> }>;
}

function createRaces(name: string, backend: Backend) {
  describe(`creating the same thing ${ATTEMPTS} times at once on ${name}`, () => {
    const clock = manualClock();
    let instances: Database[];
    let drop: () => Promise<void>;
    let identities: Identity[];
    beforeEach(async () => {
      ({ instances, drop } = await backend.open());
      identities = instances.map((instance) => createIdentity({ db: instance.db, clock, sessionTtlSeconds: 3600 }));
      // Every pool connection open before the race, so the attempts really run side by side.
      await Promise.all(instances.flatMap((instance) => Array.from({ length: ATTEMPTS }, () => instance.db.selectFrom('users').select('id').execute())));
    });
    afterEach(async () => {
      await Promise.all(instances.map((instance) => instance.close()));
      await drop();
    });

    /** Runs `attempt` ATTEMPTS times at once, spread over the instances; tallies the outcomes. */
    const race = async (attempt: (identity: Identity, index: number) => Promise<unknown>) => {
      const results = await Promise.allSettled(Array.from({ length: ATTEMPTS }, (_, i) => attempt(identities[i % identities.length], i)));
      return results.reduce<Record<string, number>>((tally, result) => {
        const key = result.status === 'fulfilled' ? 'created'
          : isAppError(result.reason) ? `${result.reason.status} ${result.reason.code}` : `unexpected: ${String(result.reason)}`;
        return { ...tally, [key]: (tally[key] ?? 0) + 1 };
      }, {});
    };

    it('creates one group and refuses the others with 409 group_taken', async () => {
      assert.deepEqual(await race((identity) => identity.groups.create({ name: 'racers' })), { created: 1, '409 group_taken': ATTEMPTS - 1 });
    });

    it('creates one user and refuses the others with 409 username_taken', async () => {
      assert.deepEqual(await race((identity) => identity.users.create({ username: 'racer' })), { created: 1, '409 username_taken': ATTEMPTS - 1 });
    });

    it('creates one user and refuses the others with 409 email_taken when only the email is the same', async () => {
      assert.deepEqual(await race((identity, i) => identity.users.create({ username: `mailer${i}`, email: 'same@example.com' })), { created: 1, '409 email_taken': ATTEMPTS - 1 });
    });

    it('creates one user inside a transaction, as POST /api/users does, and refuses the others with 409', async () => {
      assert.deepEqual(await race((identity) => identity.transaction((trx) => identity.users.create({ username: 'in-trx' }, trx))), { created: 1, '409 username_taken': ATTEMPTS - 1 });
    });

    it('creates one client with a chosen id and refuses the others with 409 client_id_taken', async () => {
      const clients = instances.map((instance) => createClientsService({ db: instance.db, clock }));
      const outcome = await race((_, i) => clients[i % clients.length].create({ id: 'race-app', name: 'Race app', redirectUris: ['https://race.example.com/cb'] }));
      assert.deepEqual(outcome, { created: 1, '409 client_id_taken': ATTEMPTS - 1 });
    });
  });
}

createRaces('SQLite', {
  async open() {
    // One handle: a SQLite file has one writer process; its requests still interleave.
    const database = await openMigratedDatabase(':memory:');
    return { instances: [database], drop: async () => {} };
  },
});

createRaces('PostgreSQL', {
  async open() {
    const postgres = await createTestPostgres();
    const instances = [await openMigratedDatabase(postgres.url), await openMigratedDatabase(postgres.url)];
    return { instances, drop: postgres.drop };
  },
});
