import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.ts';
import * as oidcPkceAndPayloadAccount from './0002-oidc-pkce-and-payload-account.ts';
import * as recoveryCodes from './0003-recovery-codes.ts';
import * as webSessionsExpiresAt from './0004-web-sessions-expires-at.ts';
import * as usersLowerUsername from './0005-users-lower-username.ts';
import * as oidcPayloadIdsHashed from './0006-oidc-payload-ids-hashed.ts';

// Every migration, in order. Names sort lexically; kysely records each one it applies.
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-oidc-pkce-and-payload-account': oidcPkceAndPayloadAccount,
  '0003-recovery-codes': recoveryCodes,
  '0004-web-sessions-expires-at': webSessionsExpiresAt,
  '0005-users-lower-username': usersLowerUsername,
  '0006-oidc-payload-ids-hashed': oidcPayloadIdsHashed,
};

export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };
