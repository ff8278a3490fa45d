import { manualClock } from '../../src/core/clock.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';

/**
 * A fresh database (in memory unless `connection` names one, e.g. a PostgreSQL test database) with
 * the identity services over it, and a clock the test moves.
 */
export async function identityFixture(connection = ':memory:') {
  const clock = manualClock();
  const database = await openMigratedDatabase(connection);
  const identity = createIdentity({ db: database.db, clock, sessionTtlSeconds: 3600 });
  return { clock, database, db: database.db, identity, close: () => database.close() };
}
