import type { Clock } from '../core/clock.ts';
import { AppError, notFound } from '../core/errors.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';

export type LinkPurpose = 'setup' | 'signin';

export const linkExpired = () =>
  new AppError('link_invalid', 400, 'This link has expired or was already used. Ask an admin for a new one.');

/** Why a disabled user gets no sign-in link: the admin console shows it before anyone asks. */
export const linkRefusalForDisabled = (username: string) => `${username} is disabled: enable them first, or the link would not let them in.`;

/**
 * Withdraws a user's unused links of one purpose (`userId` null: the setup link). `conn` lets
 * issueSignIn, and disabling a user (users.ts), do it in their own transaction.
 */
export async function withdrawUnusedLinks(conn: DbOrTransaction, purpose: LinkPurpose, userId: string | null): Promise<void> {
  let query = conn.deleteFrom('one_time_links').where('purpose', '=', purpose).where('used_at', 'is', null);
  query = userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', userId);
  await query.execute();
}

/**
 * One-time links: 256 bits from the CSPRNG, stored only as a SHA-256 hash (a leaked database does
 * not reveal usable links), consumed by a single conditional UPDATE so two clicks cannot both win.
 */
export function createOneTimeLinks(db: Db, clock: Clock) {
  async function insertLink(conn: DbOrTransaction, purpose: LinkPurpose, userId: string | null, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    const token = randomToken(32);
    const now = clock.nowMs();
    const expiresAt = now + ttlSeconds * 1000;
    await conn.insertInto('one_time_links').values({
      token_hash: sha256Base64url(token), purpose, user_id: userId, created_at: now, expires_at: expiresAt, used_at: null,
    }).execute();
    return { token, expiresAt };
  }
  return {
    /** Stores a new link as it is; a sign-in link for a person goes through issueSignIn instead. */
    issue: (purpose: LinkPurpose, userId: string | null, ttlSeconds: number) => insertLink(db, purpose, userId, ttlSeconds),
    /**
     * A sign-in link for a user, made the only one of theirs that works: their unused links are
     * withdrawn in the same transaction, so a link sent to the wrong person is withdrawn by making
     * another. Refused for a disabled user (409 user_disabled): it could not sign them in now, and
     * would start working the day they are enabled again. The admin console, the admin API and the
     * link logged at start all issue through here, so none of them skips either rule.
     */
    async issueSignIn(userId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
      return db.transaction().execute(async (trx) => {
        // A no-op update reads the user and locks their row: a disabling at the same moment
        // (users.update, which withdraws their links) runs wholly before this or after it.
        const user = await trx.updateTable('users').set((eb) => ({ updated_at: eb.ref('updated_at') })).where('id', '=', userId)
          .returning(['username', 'disabled']).executeTakeFirst();
        if (!user) throw notFound('This user');
        if (user.disabled === 1) throw new AppError('user_disabled', 409, linkRefusalForDisabled(user.username));
        await withdrawUnusedLinks(trx, 'signin', userId);
        return insertLink(trx, 'signin', userId, ttlSeconds);
      });
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
    revokeUnused: (purpose: LinkPurpose, userId: string | null): Promise<void> => withdrawUnusedLinks(db, purpose, userId),
  };
}

export type OneTimeLinks = ReturnType<typeof createOneTimeLinks>;
