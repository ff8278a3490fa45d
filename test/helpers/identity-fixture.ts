import { manualClock } from '../../src/core/clock.ts';
import { createIdentity } from '../../src/identity/index.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';

/** A fresh in-memory database with the identity services over it, and a clock the test moves. */
export async function identityFixture() {
  const clock = manualClock();
  const database = await openMigratedDatabase(':memory:');
  const identity = createIdentity({ db: database.db, clock, sessionTtlSeconds: 3600 });
  return { clock, database, db: database.db, identity, close: () => database.close() };
}
