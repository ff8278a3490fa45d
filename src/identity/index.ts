import type { Clock } from '../core/clock.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import { createApiKeys } from './api-keys.ts';
import { createAppSettings } from './app-settings.ts';
import { createAuditLog } from './audit-log.ts';
import { createGroupStore } from './groups.ts';
import { createOneTimeLinks } from './one-time-links.ts';
import { createRecoveryCodes } from './recovery-codes.ts';
import { createSetup } from './setup.ts';
import { createUserStore } from './users.ts';
import { createWebSessions } from './web-sessions.ts';

/**
 * Everything about people: users, groups, links, sessions, keys, recovery codes, the audit trail,
 * and the admin-editable settings. `sessionTtlSeconds` and `appName` (SESSION_DURATION, APP_NAME)
 * are the defaults until an admin saves other values.
 */
export function createIdentity(deps: { db: Db; clock: Clock; sessionTtlSeconds: number; appName?: string }) {
  const { db, clock } = deps;
  const users = createUserStore(db, clock);
  const links = createOneTimeLinks(db, clock);
  const audit = createAuditLog(db, clock);
  const settings = createAppSettings({ db, clock, audit, defaults: { appName: deps.appName ?? 'latchkey', sessionDurationSeconds: deps.sessionTtlSeconds } });
  return {
    settings,
    users,
    groups: createGroupStore(db, clock),
    links,
    setup: createSetup({ db, clock, links, users }),
    // Read at each sign-in, so a saved duration applies to the next session.
    sessions: createWebSessions(db, clock, async () => (await settings.get()).sessionDurationSeconds),
    audit,
    apiKeys: createApiKeys(db, clock),
    recoveryCodes: createRecoveryCodes(db, clock),
    /** Runs `work` in one transaction, for changes that span stores: pass `trx` as their `conn`. */
    transaction: <T>(work: (trx: DbOrTransaction) => Promise<T>): Promise<T> => db.transaction().execute(work),
  };
}

export type Identity = ReturnType<typeof createIdentity>;
