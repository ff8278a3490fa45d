// Registers every signed-in user's own pages (/account/*) and the recovery-code sign-in on the
// identity server, wired to the services they act through.
import type { FastifyInstance } from 'fastify';
import { accountRoutes } from '../identity/account-routes.ts';
import { accountSessionsRoutes } from '../identity/account-sessions-routes.ts';
import { removalFacts, removeOwnPasskey } from '../identity/passkey-removal.ts';
import { recoveryRoutes } from '../identity/recovery-routes.ts';
import type { SignOutReplacedUser } from '../identity/routes.ts';
import { listAuthorizedApps } from '../oidc/authorized-apps.ts';
import type { OidcProvider } from '../oidc/provider.ts';
import { untoldApps, type SignOutGaps } from '../oidc/untold-apps.ts';
import { createReveal } from '../web/reveal.ts';
import type { CsrfOptions } from '../web/csrf.ts';
import type { IdServices } from './id-services.ts';

export interface AccountPagesDeps {
  services: IdServices;
  oidc: OidcProvider;
  csrf: CsrfOptions;
  secureCookies: boolean;
  /** The site to go on to (`latchkey serve`); null for `latchkey id`, which has no one site. */
  siteUrl: string | null;
  /** A recovery code signed in another user than this browser's (identity/routes.ts signIn). */
  signOutReplacedUser: SignOutReplacedUser;
}

export function accountPagesRoutes(app: FastifyInstance, deps: AccountPagesDeps): void {
  const { identity, webauthn, database, clock, store, clients, config } = deps.services;
  const { db } = database;
  // appName is a getter on each deps object (a spread would copy today's value): an admin can change it.
  const site = deps.siteUrl === null ? null : { url: deps.siteUrl, hasPasskey: async (userId: string) => (await webauthn.countPasskeys(userId)) > 0 };
  const common = { identity, secureCookies: deps.secureCookies, csrf: deps.csrf, site };
  accountRoutes(app, {
    ...common,
    get appName() { return identity.settings.current().appName; },
    passkeys: {
      list: async (userId) => (await webauthn.listPasskeys(userId)).map((p) => ({
        id: p.id, name: p.name, createdAt: p.createdAtMs, lastUsedAt: p.lastUsedAtMs, backupEligible: p.backupEligible, backupState: p.backupState,
      })),
      rename: (userId, passkeyId, name) => webauthn.renamePasskey(userId, passkeyId, name),
      removalFacts: (userId) => removalFacts(db, userId),
      remove: (userId, passkeyId) => removeOwnPasskey(db, userId, passkeyId),
    },
  });
  accountSessionsRoutes(app, {
    ...common,
    get appName() { return identity.settings.current().appName; },
    authorizedApps: (userId) => listAuthorizedApps(db, clock, userId),
    signOutOfApps: async (userId) => untoldApps(clients, await deps.oidc.logoutUser(userId)),
    signOutOfApp: async (userId, clientId) => untoldApps(clients, await deps.oidc.signOutOfApp(userId, clientId)),
    // a key and namespace of their own: an admin's token opens nothing here, nor a user's there
    signOutGaps: createReveal<SignOutGaps>({ store, encryptionKey: config.encryptionKey, purpose: 'account-sign-out-gaps' }),
  });
  recoveryRoutes(app, { ...common, get appName() { return identity.settings.current().appName; }, store, signOutReplacedUser: deps.signOutReplacedUser });
}
