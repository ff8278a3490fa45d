import type { Group } from '../identity/groups.ts';
import { clientMetaDataDto, groupMinimalDto } from '../identity/pocket-id-dto.ts';
import type { OidcClient } from './clients.ts';
import { TTL_SECONDS } from './provider-configuration.ts';

// Pocket ID 2.x's OidcClientDto family (backend/internal/dto/oidc_dto.go), so scripts read the
// fields they expect. Features latchkey does not have carry the value that describes what it does:
// no logos or launch URL, never a consent screen, the same token lifetimes for every client.

export const ACCESS_TOKEN_MINUTES = TTL_SECONDS.AccessToken / 60;
export const REFRESH_TOKEN_MINUTES = TTL_SECONDS.RefreshToken / 60;

/** Pocket ID's OidcClientDto; `backchannelLogoutUri`, `createdAt` and `updatedAt` are latchkey's. */
export const clientDto = (client: OidcClient) => ({
  ...clientMetaDataDto(client),
  callbackURLs: client.redirectUris,
  logoutCallbackURLs: client.postLogoutRedirectUris,
  isPublic: client.isPublic,
  pkceEnabled: client.requirePkce,
  requiresPushedAuthorizationRequests: false,
  skipConsent: true,
  credentials: { federatedIdentities: [] },
  isGroupRestricted: !client.unrestricted,
  accessTokenDurationMinutes: ACCESS_TOKEN_MINUTES,
  refreshTokenDurationMinutes: REFRESH_TOKEN_MINUTES,
  backchannelLogoutUri: client.backchannelLogoutUri,
  createdAt: client.createdAt,
  updatedAt: client.updatedAt,
});

/** Resolves a client's group names (what latchkey stores) to the groups Pocket ID's DTOs list. */
export function clientDtos(groups: { list(): Promise<Group[]>; memberCounts(): Promise<Map<string, number>> }) {
  const allowedGroupsOf = async (client: OidcClient) => {
    const byName = new Map((await groups.list()).map((g) => [g.name, g]));
    return client.allowedGroups.map((name) => byName.get(name)).filter((g): g is Group => g !== undefined);
  };
  return {
    /** Pocket ID's OidcClientWithAllowedUserGroupsDto. */
    async withGroups(client: OidcClient) {
      const counts = await groups.memberCounts();
      return { ...clientDto(client), allowedUserGroups: (await allowedGroupsOf(client)).map((g) => groupMinimalDto(g, counts.get(g.id) ?? 0)) };
    },
    /** Pocket ID's OidcClientWithAllowedGroupsCountDto, a row of the list. */
    withGroupCount: (client: OidcClient) => ({ ...clientDto(client), allowedUserGroupsCount: client.allowedGroups.length }),
  };
}
