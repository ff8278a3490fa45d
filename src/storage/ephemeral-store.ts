import type { Clock } from '../core/clock.ts';
import type { Db } from './database.ts';

/**
 * Short-lived state: WebAuthn challenges, CSRF tokens, rate-limit counters. Kept outside process
 * memory by default (the database; Redis when configured) so that another instance can finish a
 * ceremony this one started.
 */
export interface EphemeralStore {
  put(key: string, value: string, ttlSeconds: number): Promise<void>;
  get(key: string): Promise<string | null>;
  /** Reads and deletes in one step: a second take of the same key finds nothing. */
  take(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /** Adds one to a counter that expires `ttlSeconds` after it was first set; returns the new count. */
  increment(key: string, ttlSeconds: number): Promise<number>;
  close(): Promise<void>;
}

export function createMemoryStore(clock: Clock): EphemeralStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= clock.nowMs()) {
      entries.delete(key);
      return null;
    }
    return entry;
  };
  return {
    async put(key, value, ttlSeconds) {
      entries.set(key, { value, expiresAt: clock.nowMs() + ttlSeconds * 1000 });
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async take(key) {
      const entry = live(key);
      entries.delete(key);
      return entry?.value ?? null;
    },
    async delete(key) {
      entries.delete(key);
    },
    async increment(key, ttlSeconds) {
      const entry = live(key);
      const count = entry ? Number(entry.value) + 1 : 1;
      entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? clock.nowMs() + ttlSeconds * 1000 });
      return count;
    },
    async close() {
      entries.clear();
    },
  };
}

export function createDatabaseStore(db: Db, clock: Clock): EphemeralStore {
  return {
    async put(key, value, ttlSeconds) {
      const expires_at = clock.nowMs() + ttlSeconds * 1000;
      await db.insertInto('ephemeral').values({ key, value, expires_at })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, expires_at }))
        .execute();
    },
    async get(key) {
      const row = await db.selectFrom('ephemeral').select('value')
        .where('key', '=', key).where('expires_at', '>', clock.nowMs()).executeTakeFirst();
      return row?.value ?? null;
    },
    async take(key) {
      // DELETE … RETURNING is one statement, so two concurrent takes cannot both see the value.
      const row = await db.deleteFrom('ephemeral').where('key', '=', key).returning(['value', 'expires_at']).executeTakeFirst();
      return row && row.expires_at > clock.nowMs() ? row.value : null;
    },
    async delete(key) {
      await db.deleteFrom('ephemeral').where('key', '=', key).execute();
    },
    async increment(key, ttlSeconds) {
      const now = clock.nowMs();
      await db.deleteFrom('ephemeral').where('key', '=', key).where('expires_at', '<=', now).execute();
      const row = await db.insertInto('ephemeral').values({ key, value: '1', expires_at: now + ttlSeconds * 1000 })
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({
          value: eb.cast<string>(eb(eb.cast<number>('ephemeral.value', 'integer'), '+', 1), 'text'),
        })))
        .returning('value').executeTakeFirstOrThrow();
      return Number(row.value);
    },
    async close() {},
  };
}

/**
 * Deletes expired rows, and audit entries older than the retention (AUDIT_LOG_RETENTION_DAYS, as
 * Pocket ID's clean-up job does); the servers call it on a timer so the tables stay small. Some
 * audit entries need no sign-in (refused recovery codes), so without a retention the log grows
 * for as long as anyone sends requests. Every statement finds its rows through an index
 * (audit_log_created_at from 0001 for the audit log; expiry-sweep-indexes.test.ts).
 */
export async function sweepExpired(db: Db, clock: Clock, options: { auditLogRetentionDays: number }): Promise<void> {
  const now = clock.nowMs();
  await db.deleteFrom('ephemeral').where('expires_at', '<=', now).execute();
  await db.deleteFrom('oidc_payloads').where('expires_at', '<=', now).execute();
  await db.deleteFrom('web_sessions').where('expires_at', '<=', now).execute();
  await db.deleteFrom('audit_log').where('created_at', '<', now - options.auditLogRetentionDays * 86_400_000).execute();
}
