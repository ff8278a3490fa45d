// Two admins, scripts or instances creating the same user, group or client at the same moment: the
// stores check the name first and insert after, so several can pass the check, and the database's
// unique constraint refuses all but one insert. Each refusal must reach the caller as the same 409
// the check gives (username_taken, email_taken, group_taken, client_id_taken), never as a 500.
// A user's names are more than any index can keep (unique in any case, and a username never
// another user's email), so users.ts checks them under a lock: with "Alice", "alice" and "ALICE"
// at once, or a username that another create at that moment takes as its email, or renames, one
// request still wins. On PostgreSQL two instances (each its own connection pool) create side by
// side, as two latchkey id processes behind one load balancer do; on a SQLite file, two handles
// write as the server and a CLI command beside it do.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
        const key = result.status === 'fulfilled' ? 'ok'
          : isAppError(result.reason) ? `${result.reason.status} ${result.reason.code}` : `unexpected: ${String(result.reason)}`;
        return { ...tally, [key]: (tally[key] ?? 0) + 1 };
      }, {});
    };

    it('creates one group and refuses the others with 409 group_taken', async () => {
      assert.deepEqual(await race((identity) => identity.groups.create({ name: 'racers' })), { ok: 1, '409 group_taken': ATTEMPTS - 1 });
    });

    it('creates one user and refuses the others with 409 username_taken', async () => {
      assert.deepEqual(await race((identity) => identity.users.create({ username: 'racer' })), { ok: 1, '409 username_taken': ATTEMPTS - 1 });
    });

    it('creates one user and refuses the others with 409 email_taken when only the email is the same', async () => {
      assert.deepEqual(await race((identity, i) => identity.users.create({ username: `mailer${i}`, email: 'same@example.com' })), { ok: 1, '409 email_taken': ATTEMPTS - 1 });
    });

    it('creates one user inside a transaction, as POST /api/users does, and refuses the others with 409', async () => {
      assert.deepEqual(await race((identity) => identity.transaction((trx) => identity.users.create({ username: 'in-trx' }, trx))), { ok: 1, '409 username_taken': ATTEMPTS - 1 });
    });

    /** The users whose username, in any case, or email is `name`. */
    const usersNamed = (name: string) => instances[0].db.selectFrom('users').select('id')
      .where((eb) => eb.or([eb(eb.fn('lower', ['username']), '=', name), eb('email', '=', name)])).execute();

    const CASES = ['Alice', 'alice', 'ALICE'];

    it('creates one user of "Alice", "alice" and "ALICE" and refuses the others with 409 username_taken', async () => {
      assert.deepEqual(await race((identity, i) => identity.users.create({ username: CASES[i % CASES.length] })), { ok: 1, '409 username_taken': ATTEMPTS - 1 });
      assert.equal((await usersNamed('alice')).length, 1);
    });

    it('creates one user of those names in another case inside a transaction, as POST /api/users does', async () => {
      const outcome = await race((identity, i) => identity.transaction((trx) => identity.users.create({ username: CASES[i % CASES.length] }, trx)));
      assert.deepEqual(outcome, { ok: 1, '409 username_taken': ATTEMPTS - 1 });
      assert.equal((await usersNamed('alice')).length, 1);
    });

    /**
     * Half the attempts give `name` as a username, half as an email: one wins, and each other is
     * refused for the field it gave (username_taken or email_taken), whichever kind won.
     */
    const assertOneOfCrossRace = async (name: string, outcome: Record<string, number>) => {
      const half = ATTEMPTS / 2;
      const ifUsernameWon = { ok: 1, '409 username_taken': half - 1, '409 email_taken': half };
      const ifEmailWon = { ok: 1, '409 username_taken': half, '409 email_taken': half - 1 };
      assert.deepEqual(outcome, outcome['409 username_taken'] === half ? ifEmailWon : ifUsernameWon);
      assert.equal((await usersNamed(name)).length, 1);
    };

    it('creates one user of a username and the same text as another\'s email, and refuses the others with 409', async () => {
      const outcome = await race((identity, i) => identity.users.create(i % 2 ? { username: `bob${i}`, email: 'Bob@Example.com' } : { username: 'bob@example.COM' }));
      await assertOneOfCrossRace('bob@example.com', outcome);
    });

    describe('renaming', () => {
      let ids: string[];
      beforeEach(async () => {
        ids = [];
        for (let i = 0; i < ATTEMPTS; i++) ids.push((await identities[0].users.create({ username: `renamer${i}` })).id);
      });

      it('renames one user to "Alice", "alice" or "ALICE" and refuses the others with 409 username_taken', async () => {
        assert.deepEqual(await race((identity, i) => identity.users.update(ids[i], { username: CASES[i % CASES.length] })), { ok: 1, '409 username_taken': ATTEMPTS - 1 });
        assert.equal((await usersNamed('alice')).length, 1);
      });

      it('gives one user a name as username or as email and refuses the others with 409', async () => {
        const outcome = await race((identity, i) => identity.users.update(ids[i], i % 2 ? { email: 'carol@example.com' } : { username: 'Carol@example.com' }));
        await assertOneOfCrossRace('carol@example.com', outcome);
      });

      it('answers 404, never a 500, to renames of a user another request removes meanwhile', async () => {
        // A rename reads the user, then waits for the names lock; the removal may land in between.
        const outcome = await race((identity, i) => i % 4 === 1 ? identity.users.remove(ids[0]) : identity.users.update(ids[0], { username: `moved${i}` }));
        assert.deepEqual(Object.keys(outcome).filter((key) => key !== 'ok' && key !== '404 not_found'), []);
        assert.equal((await instances[0].db.selectFrom('users').select('id').where('id', '=', ids[0]).execute()).length, 0);
      });
    });

    it('creates one client with a chosen id and refuses the others with 409 client_id_taken', async () => {
      const clients = instances.map((instance) => createClientsService({ db: instance.db, clock }));
      const outcome = await race((_, i) => clients[i % clients.length].create({ id: 'race-app', name: 'Race app', redirectUris: ['https://race.example.com/cb'] }));
      assert.deepEqual(outcome, { ok: 1, '409 client_id_taken': ATTEMPTS - 1 });
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

createRaces('a SQLite file with two handles', {
  async open() {
    const folder = mkdtempSync(join(tmpdir(), 'latchkey-races-'));
    const file = join(folder, 'latchkey.db');
    const instances = [await openMigratedDatabase(file), await openMigratedDatabase(file)];
    return { instances, drop: async () => rmSync(folder, { recursive: true, force: true }) };
  },
});

createRaces('PostgreSQL', {
  async open() {
    const postgres = await createTestPostgres();
    const instances = [await openMigratedDatabase(postgres.url), await openMigratedDatabase(postgres.url)];
    return { instances, drop: postgres.drop };
  },
});
