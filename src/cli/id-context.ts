import { loadIdConfig, type IdConfig } from '../config/id-config.ts';
import { systemClock } from '../core/clock.ts';
import { createIdentity, type Identity } from '../identity/index.ts';
import { openMigratedDatabase, type Database } from '../storage/database.ts';

/** What the admin commands share: the same configuration and database as `latchkey id`. */
export interface IdContext {
  config: Readonly<IdConfig>;
  database: Database;
  identity: Identity;
  close(): Promise<void>;
}

export async function openIdContext(env = process.env): Promise<IdContext> {
  const config = loadIdConfig({ env });
  const database = await openMigratedDatabase(config.dbConnectionString);
  const identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: config.sessionDurationSeconds, appName: config.appName });
  return { config, database, identity, close: () => database.close() };
}

export async function withIdContext<T>(work: (context: IdContext) => Promise<T>): Promise<T> {
  const context = await openIdContext();
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}
