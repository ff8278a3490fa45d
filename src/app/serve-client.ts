import { isAppError } from '../core/errors.ts';
import type { ClientsService } from '../oidc/clients.ts';

/** The OIDC client `latchkey serve` registers for its own site; one per database. */
export const SERVE_CLIENT_ID = 'latchkey-serve';

export interface ServeClientSite {
  /** The site's public origin: the callback and the page after sign-out live there. */
  origin: string;
  /** Where the provider posts logout tokens server-to-server (OIDC Back-Channel Logout 1.0 §2.5). */
  backchannelLogoutUri: string;
}

/**
 * Makes the site's client match this start's addresses and returns a fresh secret for the
 * in-process proxy. A new secret at every start means no secret is ever written down, and a copy
 * taken from an old process stops working; it costs nothing because only this process uses it.
 * `unrestricted`: groups are checked per protected prefix by the proxy's decision, which needs
 * every signed-in user to get a session (the provider would otherwise refuse outright).
 */
export async function ensureServeClient(clients: ClientsService, site: ServeClientSite): Promise<string> {
  const wanted = {
    name: `${new URL(site.origin).host} (latchkey serve)`,
    redirectUris: [`${site.origin}/oauth2/callback`],
    postLogoutRedirectUris: [`${site.origin}/`],
    backchannelLogoutUri: site.backchannelLogoutUri,
    unrestricted: true,
    requirePkce: true,
    isPublic: false,
  };
  const exists = await clients.get(SERVE_CLIENT_ID).then(() => true, (error: unknown) => {
    if (isAppError(error) && error.status === 404) return false;
    throw error;
  });
  if (!exists) {
    const { secret } = await clients.create({ id: SERVE_CLIENT_ID, ...wanted });
    if (!secret) throw new Error('a confidential client was created without a secret');
    return secret;
  }
  await clients.update(SERVE_CLIENT_ID, { ...wanted, allowedGroups: [] });
  return (await clients.regenerateSecret(SERVE_CLIENT_ID)).secret;
}
