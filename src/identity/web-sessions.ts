import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { randomToken } from '../core/random.ts';
import type { Db } from '../storage/database.ts';

export interface WebSession {
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
}

/**
 * Sign-in sessions of the identity provider's own pages. The cookie carries a random token; the
 * database holds only its hash, so a database leak does not leak sessions, and a session can be
 * ended from anywhere (sign out everywhere, disabling a user).
 *
 * A session lasts the duration in force when it began, and never longer than the current one: a
 * duration shortened after an incident ends the sessions already older than it (as a lowered
 * --cookie-expire does in the proxy). The shorter end is written to the rows, not only compared,
 * so lengthening the duration again later does not bring those sessions back.
 */
export function createWebSessions(db: Db, clock: Clock, ttlSeconds: number | (() => Promise<number>)) {
  const LAST_SEEN_RESOLUTION_MS = 60_000;
  let lastTtlSeconds = Infinity;
  /** The current duration, after cutting stored ends to it whenever it is shorter than the last one seen. */
  async function currentTtlSeconds(): Promise<number> {
    const ttl = typeof ttlSeconds === 'number' ? ttlSeconds : await ttlSeconds();
    if (ttl < lastTtlSeconds) {
      // Once per process start and per shortening (any instance's: each one applies it when it
      // reads the setting); an indexless pass over a table of a few rows per signed-in browser.
      const ttlMs = ttl * 1000;
      await db.updateTable('web_sessions').set((eb) => ({ expires_at: eb('created_at', '+', ttlMs) }))
        .where((eb) => eb('expires_at', '>', eb('created_at', '+', ttlMs))).execute();
    }
    lastTtlSeconds = ttl;
    return ttl;
  }
  return {
    async create(userId: string, context: { ip?: string | null; userAgent?: string | null }): Promise<{ token: string; session: WebSession }> {
      const token = randomToken(32);
      const ttl = await currentTtlSeconds();
      const now = clock.nowMs();
      const session: WebSession = {
        id: sha256Base64url(token), userId, createdAt: now, expiresAt: now + ttl * 1000, lastSeenAt: now,
        ip: context.ip ?? null, userAgent: context.userAgent?.slice(0, 300) ?? null,
      };
      await db.insertInto('web_sessions').values({
        id_hash: session.id, user_id: userId, created_at: now, expires_at: session.expiresAt, last_seen_at: now, ip: session.ip, user_agent: session.userAgent,
      }).execute();
      return { token, session };
    },
    /** The live session for a cookie token, or null; a disabled user has no live sessions. */
    async resolve(token: string | undefined): Promise<WebSession | null> {
      if (!token || token.length > 100) return null;
      await currentTtlSeconds();
      const now = clock.nowMs();
      const row = await db.selectFrom('web_sessions').innerJoin('users', 'users.id', 'web_sessions.user_id')
        .selectAll('web_sessions').where('web_sessions.id_hash', '=', sha256Base64url(token))
        .where('web_sessions.expires_at', '>', now).where('users.disabled', '=', 0).executeTakeFirst();
      if (!row) return null;
      if (now - row.last_seen_at > LAST_SEEN_RESOLUTION_MS)
        await db.updateTable('web_sessions').set({ last_seen_at: now }).where('id_hash', '=', row.id_hash).execute();
      return { id: row.id_hash, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at, lastSeenAt: row.last_seen_at, ip: row.ip, userAgent: row.user_agent };
    },
    /**
     * Ends the session a cookie token names, whatever its state, and says whose it was if it had
     * not expired: a new sign-in in the same browser replaces it (routes.ts signIn).
     */
    async take(token: string | undefined): Promise<{ userId: string } | null> {
      if (!token || token.length > 100) return null;
      await currentTtlSeconds();
      const row = await db.deleteFrom('web_sessions').where('id_hash', '=', sha256Base64url(token))
        .returning(['user_id', 'expires_at']).executeTakeFirst();
      return row && row.expires_at > clock.nowMs() ? { userId: row.user_id } : null;
    },
    async destroy(token: string): Promise<void> {
      await db.deleteFrom('web_sessions').where('id_hash', '=', sha256Base64url(token)).execute();
    },
    async destroyById(userId: string, sessionId: string): Promise<void> {
      await db.deleteFrom('web_sessions').where('id_hash', '=', sessionId).where('user_id', '=', userId).execute();
    },
    /** Ends every session of a user, except optionally the one making the request. */
    async destroyAllForUser(userId: string, exceptSessionId?: string): Promise<void> {
      let query = db.deleteFrom('web_sessions').where('user_id', '=', userId);
      if (exceptSessionId) query = query.where('id_hash', '!=', exceptSessionId);
      await query.execute();
    },
    async listForUser(userId: string): Promise<WebSession[]> {
      await currentTtlSeconds();
      const rows = await db.selectFrom('web_sessions').selectAll().where('user_id', '=', userId)
        .where('expires_at', '>', clock.nowMs()).orderBy('last_seen_at', 'desc').execute();
      return rows.map((row) => ({ id: row.id_hash, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at, lastSeenAt: row.last_seen_at, ip: row.ip, userAgent: row.user_agent }));
    },
  };
}

export type WebSessions = ReturnType<typeof createWebSessions>;
