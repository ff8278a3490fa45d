import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';

export type LinkPurpose = 'setup' | 'signin';

export const linkExpired = () =>
  new AppError('link_invalid', 400, 'This link has expired or was already used. Ask an admin for a new one.');

/**
 * One-time links: 256 bits from the CSPRNG, stored only as a SHA-256 hash (a leaked database does
 * not reveal usable links), consumed by a single conditional UPDATE so two clicks cannot both win.
 */
export function createOneTimeLinks(db: Db, clock: Clock) {
  return {
    async issue(purpose: LinkPurpose, userId: string | null, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
      const token = randomToken(32);
      const now = clock.nowMs();
      const expiresAt = now + ttlSeconds * 1000;
      await db.insertInto('one_time_links').values({
        token_hash: sha256Base64url(token), purpose, user_id: userId, created_at: now, expires_at: expiresAt, used_at: null,
      }).execute();
      return { token, expiresAt };
    },
    /** Whether a link would still work, without using it (to show the right page on GET). */
    async peek(token: string, purpose: LinkPurpose): Promise<{ userId: string | null } | null> {
      const row = await db.selectFrom('one_time_links').select(['user_id']).where('token_hash', '=', sha256Base64url(token))
        .where('purpose', '=', purpose).where('used_at', 'is', null).where('expires_at', '>', clock.nowMs()).executeTakeFirst();
      return row ? { userId: row.user_id } : null;
    },
    /** Uses the link; throws linkExpired() when it is unknown, expired or already used. */
    async consume(token: string, purpose: LinkPurpose, conn: DbOrTransaction = db): Promise<{ userId: string | null }> {
      const now = clock.nowMs();
      const row = await conn.updateTable('one_time_links').set({ used_at: now })
        .where('token_hash', '=', sha256Base64url(token)).where('purpose', '=', purpose)
        .where('used_at', 'is', null).where('expires_at', '>', now)
        .returning(['user_id']).executeTakeFirst();
      if (!row) throw linkExpired();
      return { userId: row.user_id };
    },
    /** Withdraws a user's unused links (after a reset, or when issuing a new setup link). */
    async revokeUnused(purpose: LinkPurpose, userId: string | null): Promise<void> {
      let query = db.deleteFrom('one_time_links').where('purpose', '=', purpose).where('used_at', 'is', null);
      query = userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', userId);
      await query.execute();
    },
  };
}

export type OneTimeLinks = ReturnType<typeof createOneTimeLinks>;
