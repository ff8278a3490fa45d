import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Db } from '../storage/database.ts';
import type { OneTimeLinks } from './one-time-links.ts';
import type { NewUser, User, UserStore } from './users.ts';

const SETUP_DONE_KEY = 'setup_completed_at';
export const SETUP_LINK_TTL_SECONDS = 24 * 3600;

export const setupClosed = () =>
  new AppError('setup_closed', 410, 'Setup is already complete. Sign in with your passkey, or ask an admin for a sign-in link.');

/**
 * First run. Pocket ID lets whoever reaches /setup first become admin; latchkey only accepts a
 * one-time link printed to the operator (log and `latchkey setup-link`). Creating the admin,
 * using the link and closing setup happen in one transaction, so setup closes exactly once.
 */
export function createSetup(deps: { db: Db; clock: Clock; links: OneTimeLinks; users: UserStore }) {
  const { db, clock, links, users } = deps;
  const isComplete = async () =>
    Boolean(await db.selectFrom('app_state').select('value').where('key', '=', SETUP_DONE_KEY).executeTakeFirst());
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
        const done = await trx.selectFrom('app_state').select('value').where('key', '=', SETUP_DONE_KEY).executeTakeFirst();
        if (done) throw setupClosed();
        await links.consume(token, 'setup', trx);
        const user = await users.create({ ...admin, isAdmin: true }, trx);
        await trx.insertInto('app_state').values({ key: SETUP_DONE_KEY, value: String(clock.nowMs()) }).execute();
        return user;
      });
    },
  };
}

export type Setup = ReturnType<typeof createSetup>;
