// Passkeys for the identity provider: registration and usernameless login ceremonies, and the
// management of a user's passkeys. Plain functions over their dependencies; routes.ts adds HTTP.
import { invalidPasskeyName, passkeyNotFound } from './errors.ts';
import type { ReturnedFlow } from './ceremony-flow.ts';
import { finishLogin, startLogin, type PasskeyLogin } from './login.ts';
import * as passkeys from './passkey-store.ts';
import type { Passkey } from './passkey-store.ts';
import { finishRegistration, normalizePasskeyName, startRegistration, type Registrant } from './registration.ts';
import { DEFAULT_CHALLENGE_TTL_SECONDS, type WebauthnDeps, type WebauthnSettings } from './settings.ts';

export type { ReturnedFlow, StartedFlow } from './ceremony-flow.ts';
export type { Passkey } from './passkey-store.ts';
export type { PasskeyLogin } from './login.ts';
export type { Registrant } from './registration.ts';
export type { WebauthnDeps } from './settings.ts';

export function createWebauthn(deps: WebauthnDeps) {
  const settings: WebauthnSettings = { ...deps, challengeTtlSeconds: deps.challengeTtlSeconds ?? DEFAULT_CHALLENGE_TTL_SECONDS };
  const { db } = settings;
  return {
    /** How long a started ceremony may take (seconds): its browser cookie lives as long. */
    challengeTtlSeconds: settings.challengeTtlSeconds,
    /**
     * Options for navigator.credentials.create(); `flowId` comes back with the response, and
     * `browserSecret` with it only from the browser that started the ceremony (never put it in a body).
     */
    startRegistration: (registrant: Registrant) => startRegistration(settings, registrant),
    /** Verifies the new credential and stores it; `userId` must be the account the flow started for. */
    finishRegistration: (flow: ReturnedFlow, response: unknown, input: { userId: string; name?: string }): Promise<Passkey> =>
      finishRegistration(settings, flow, response, input),
    /** Options for a usernameless navigator.credentials.get(); `flowId` and `browserSecret` as for a registration. */
    startLogin: () => startLogin(settings),
    /** Verifies the assertion; the caller starts a session for the returned user. */
    finishLogin: (flow: ReturnedFlow, response: unknown): Promise<PasskeyLogin> => finishLogin(settings, flow, response),

    listPasskeys: (userId: string): Promise<Passkey[]> => passkeys.listPasskeysByUser(db, userId),
    countPasskeys: (userId: string): Promise<number> => passkeys.countPasskeysByUser(db, userId),
    /** Renames one of the user's own passkeys; another user's passkey is "not found". */
    async renamePasskey(userId: string, passkeyId: string, name: string): Promise<void> {
      const normalized = normalizePasskeyName(name);
      if (normalized === null) throw invalidPasskeyName();
      if (!(await passkeys.renamePasskey(db, { userId, passkeyId }, normalized))) throw passkeyNotFound();
    },
    /** Deletes one of the user's own passkeys; another user's passkey is "not found". */
    async deletePasskey(userId: string, passkeyId: string): Promise<void> {
      if (!(await passkeys.deletePasskey(db, { userId, passkeyId }))) throw passkeyNotFound();
    },
  };
}

export type Webauthn = ReturnType<typeof createWebauthn>;
