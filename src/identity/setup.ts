import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import type { NewUser, User, UserStore } from './users.ts';

const SETUP_DONE_KEY = 'setup_completed_at';
export const SETUP_LINK_TTL_SECONDS = 24 * 3600;

export const setupClosed = () =>
  new AppError('setup_closed', 410, 'Setup is already complete: an admin exists. Sign in with your passkey, or give an admin a sign-in link with `latchkey one-time-link <user>`.');

/**
 * First run. Pocket ID lets whoever reaches /setup first become admin; latchkey only accepts a
 * one-time link printed to the operator (log and `latchkey setup-link`). Creating the admin,
 * using the link and closing setup happen in one transaction, so setup closes exactly once.
 * Setup also counts as done once any admin exists: `latchkey user add --admin`, the admin API and
 * databases from before the completion record was kept all make admins without this page, and an
 * open setup link would then hand out one more admin account to whoever holds it.
 */
export function createSetup(deps: { db: Db; clock: Clock; links: OneTimeLinks; users: UserStore }) {
  const { db, clock, links, users } = deps;
  const isCompleteIn = async (conn: DbOrTransaction) =>
    Boolean(await conn.selectFrom('app_state').select('value').where('key', '=', SETUP_DONE_KEY).executeTakeFirst()) ||
    Boolean(await conn.selectFrom('users').select('id').where('is_admin', '=', 1).limit(1).executeTakeFirst());
  const isComplete = () => isCompleteIn(db);
  return {
    isComplete,
    /** A fresh setup link, replacing older unused ones; refused once setup is complete. */
    async issueLink(): Promise<{ token: string; expiresAt: number }> {
      if (await isComplete()) throw setupClosed();
      await links.revokeUnused('setup', null);
      return links.issue('setup', null, SETUP_LINK_TTL_SECONDS);
    },
    async linkIsValid(token: string): Promise<boolean> {
      return !(await isComplete()) && (await links.peek(token, 'setup')) !== null;
    },
    async complete(token: string, admin: NewUser): Promise<User> {
      return db.transaction().execute(async (trx) => {
        // The primary key on app_state makes a second, concurrent completion fail here.
        if (await isCompleteIn(trx)) throw setupClosed();
        await links.consume(token, 'setup', trx);
        const user = await users.create({ ...admin, isAdmin: true }, trx);
        await trx.insertInto('app_state').values({ key: SETUP_DONE_KEY, value: String(clock.nowMs()) }).execute();
        return user;
      });
    },
  };
}

export type Setup = ReturnType<typeof createSetup>;
