import type { Clock } from '../core/clock.ts';
import type { Db } from '../storage/database.ts';
import { createApiKeys } from './api-keys.ts';
import { createAuditLog } from './audit-log.ts';
import { createGroupStore } from './groups.ts';
import { createOneTimeLinks } from './one-time-links.ts';
import { createRecoveryCodes } from './recovery-codes.ts';
import { createSetup } from './setup.ts';
import { createUserStore } from './users.ts';
import { createWebSessions } from './web-sessions.ts';

/** Everything about people: users, groups, links, sessions, keys, recovery codes and the audit trail. */
export function createIdentity(deps: { db: Db; clock: Clock; sessionTtlSeconds: number }) {
  const { db, clock } = deps;
  const users = createUserStore(db, clock);
  const links = createOneTimeLinks(db, clock);
  return {
    users,
    groups: createGroupStore(db, clock),
    links,
    setup: createSetup({ db, clock, links, users }),
    sessions: createWebSessions(db, clock, deps.sessionTtlSeconds),
    audit: createAuditLog(db, clock),
    apiKeys: createApiKeys(db, clock),
    recoveryCodes: createRecoveryCodes(db, clock),
  };
}

export type Identity = ReturnType<typeof createIdentity>;
