import { SERVE_CLIENT_ID } from './serve-client.ts';
import type { IdConfig } from '../config/id-config.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { createIdentity, type Identity } from '../identity/index.ts';
import { openMigratedDatabase, type Database } from '../storage/database.ts';
import { createDatabaseStore, sweepExpired, type EphemeralStore } from '../storage/ephemeral-store.ts';
import { createWebauthn, type Webauthn } from '../webauthn/index.ts';
import { createClientsService, type ClientsService } from '../oidc/clients.ts';
import type { RedisConnectionLog } from '../storage/redis-store.ts';

/** The identity provider's services, wired once; `latchkey id` and `latchkey serve` share them. */
export interface IdServices {
  config: Readonly<IdConfig>;
  clock: Clock;
  database: Database;
  /** Migrations this start applied, oldest first; createIdApp logs them. */
  migrationsApplied: string[];
  store: EphemeralStore;
  identity: Identity;
  webauthn: Webauthn;
  clients: ClientsService;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 5 * 60_000;

async function redisStore(url: string, keyPrefix: string, clock: Clock, log?: RedisConnectionLog): Promise<EphemeralStore> {
  const { connectRedis, createRedisStore } = await import('../storage/redis-store.ts');
  const { redis, outage } = connectRedis(url, log, clock);
  return createRedisStore(redis, { keyPrefix, outage });
}

export async function createIdServices(config: Readonly<IdConfig>, options: { clock?: Clock; store?: EphemeralStore; log?: RedisConnectionLog } = {}): Promise<IdServices> {
  const clock = options.clock ?? systemClock;
  const database = await openMigratedDatabase(config.dbConnectionString);
  // REDIS_URL moves short-lived state out of the database, shared by every instance (docs/scaling.md).
  // ioredis is loaded only then: ~1.7 MB of heap that a single instance never uses.
  const store = options.store ?? (config.redisUrl ? await redisStore(config.redisUrl, config.redisKeyPrefix, clock, options.log) : createDatabaseStore(database.db, clock));
  const identity = createIdentity({ db: database.db, clock, sessionTtlSeconds: config.sessionDurationSeconds, appName: config.appName });
  // Loads the admin-saved settings before the first page is drawn.
  await identity.settings.get();
  // The passkey prompt's name keeps the value at start-up (the settings page says so).
  const webauthn = createWebauthn({ rpId: config.rpId, rpName: config.appName, origin: config.origin, store, db: database.db, clock });
  // Expired challenges, codes and sessions are refused at read time; the sweep only keeps tables
  // small. Audit entries past AUDIT_LOG_RETENTION_DAYS are deleted by the sweep alone.
  const sweep = () => sweepExpired(database.db, clock, { auditLogRetentionDays: config.auditLogRetentionDays });
  const sweeper = setInterval(() => void sweep().catch(() => {}), SWEEP_INTERVAL_MS);
  sweeper.unref();
  // Everything that serves the console, the API and the CLI leaves serve's own client alone.
  const clients = createClientsService({ db: database.db, clock, managedIds: new Set([SERVE_CLIENT_ID]) });
  return {
    config, clock, database, migrationsApplied: database.migrationsApplied, store, identity, webauthn, clients,
    async close() {
      clearInterval(sweeper);
      await store.close();
      await database.close();
    },
  };
}
