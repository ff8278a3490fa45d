import type { Clock } from '../core/clock.ts';
import { badRequest, notFound } from '../core/errors.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { randomId, randomToken } from '../core/random.ts';
import type { Db } from '../storage/database.ts';

export interface ApiKey {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** Why verify() refuses a stored key: it expired, or its creator is no longer an active admin. */
export type ApiKeyRefusal = 'expired' | 'creator_not_active_admin';

/** A key as the console and `latchkey api-key list` show it: who made it, and whether it still works. */
export interface ListedApiKey extends ApiKey {
  /** The creator's username; null for a key made with the CLI, or when the creator is gone. */
  createdBy: string | null;
  /** Whether verify() accepts it now: `refusal` is null. */
  honoured: boolean;
  /** Why verify() refuses it, or null. */
  refusal: ApiKeyRefusal | null;
}

/** A stored key with what the rule needs to know of its creator (left join: null without one). */
interface KeyRow {
  expires_at: number | null;
  created_by: string | null;
  creator_is_admin: number | null;
  creator_disabled: number | null;
}

/**
 * The one rule for whether a key works, which verify() applies and the lists show, so a list never
 * shows a refused key as working. As in Pocket ID, a key acts for the admin who made it, so
 * demoting, disabling or deleting them stops it (checked on every call, so a re-promoted admin's
 * keys work again). Keys made with `latchkey api-key create` have no creator: whoever runs the CLI
 * on the server already controls the database, so those last until revoked or expired. An expired
 * key stays refused, whatever its creator: expiry is reported first.
 */
export function apiKeyRefusal(row: KeyRow, nowMs: number): ApiKeyRefusal | null {
  if (row.expires_at !== null && row.expires_at <= nowMs) return 'expired';
  if (row.created_by !== null && !(row.creator_is_admin === 1 && row.creator_disabled === 0)) return 'creator_not_active_admin';
  return null;
}

/** Admin API keys (Pocket ID's `X-API-KEY`): shown once, stored as a SHA-256 hash. */
export function createApiKeys(db: Db, clock: Clock) {
  const withCreator = () => db.selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.created_by')
    .selectAll('api_keys')
    .select(['users.username as creator_username', 'users.is_admin as creator_is_admin', 'users.disabled as creator_disabled']);
  return {
    async create(input: { name: string; createdBy?: string | null; expiresAt?: number | null }): Promise<{ key: string; apiKey: ApiKey }> {
      const name = input.name.trim();
      if (!name || name.length > 100) throw badRequest('invalid_api_key', 'Give the API key a name of 1–100 characters.');
      const key = `lk_${randomToken(32)}`;
      const row = { id: randomId(), name, key_hash: sha256Base64url(key), created_by: input.createdBy ?? null, created_at: clock.nowMs(), expires_at: input.expiresAt ?? null, last_used_at: null };
      await db.insertInto('api_keys').values(row).execute();
      return { key, apiKey: { id: row.id, name, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: null } };
    },
    /** The key, while apiKeyRefusal() finds nothing against it; its use is recorded. */
    async verify(key: string | undefined): Promise<ApiKey | null> {
      if (!key || key.length > 200) return null;
      const row = await withCreator().where('api_keys.key_hash', '=', sha256Base64url(key)).executeTakeFirst();
      if (!row || apiKeyRefusal(row, clock.nowMs()) !== null) return null;
      await db.updateTable('api_keys').set({ last_used_at: clock.nowMs() }).where('id', '=', row.id).execute();
      return { id: row.id, name: row.name, createdAt: row.created_at, expiresAt: row.expires_at, lastUsedAt: row.last_used_at };
    },
    async list(): Promise<ListedApiKey[]> {
      const rows = await withCreator().orderBy('api_keys.created_at').execute();
      const now = clock.nowMs();
      return rows.map((r) => {
        const refusal = apiKeyRefusal(r, now);
        return {
          id: r.id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at,
          createdBy: r.creator_username ?? null, honoured: refusal === null, refusal,
        };
      });
    },
    async revoke(id: string): Promise<void> {
      const result = await db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
      if (!Number(result.numDeletedRows)) throw notFound('This API key');
    },
  };
}

export type ApiKeys = ReturnType<typeof createApiKeys>;
