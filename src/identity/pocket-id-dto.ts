import type { Group, GroupStore } from './groups.ts';
import { displayName, type User, type UserStore } from './users.ts';

// The admin API answers in Pocket ID 2.x's shapes (backend/internal/dto/user_dto.go and
// user_group_dto.go), so scripts written for it read the fields they expect. Fields for features
// latchkey does not have carry their empty value (no custom claims, no LDAP, no per-user locale).
// A few latchkey fields ride along where Pocket ID has no equivalent.

export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** Pocket ID's UserGroupMinimalDto. */
export const groupMinimalDto = (group: Group, userCount: number) => ({
  id: group.id, friendlyName: group.friendlyName, name: group.name,
  customClaims: [], userCount, ldapId: null, createdAt: isoTime(group.createdAt),
});

/**
 * Pocket ID's UserDto. `groups` (the names, as in the `groups` claim), `createdAt` and `updatedAt`
 * are latchkey's additions; `displayName` is always the first and last name (latchkey stores no
 * separate one).
 */
export const userDto = (user: User, groups: Group[], memberCounts: Map<string, number>) => ({
  id: user.id, username: user.username, email: user.email, emailVerified: user.emailVerified,
  firstName: user.firstName, lastName: user.lastName, displayName: displayName(user),
  isAdmin: user.isAdmin, locale: null, customClaims: [],
  userGroups: groups.map((g) => groupMinimalDto(g, memberCounts.get(g.id) ?? 0)),
  ldapId: null, disabled: user.disabled,
  groups: groups.map((g) => g.name), createdAt: user.createdAt, updatedAt: user.updatedAt,
});

export type UserDto = ReturnType<typeof userDto>;

/** Pocket ID's OidcClientMetaDataDto, the short form of a client inside a group. */
export const clientMetaDataDto = (client: { id: string; name: string }) => ({
  id: client.id, name: client.name, description: '', hasLogo: false, hasDarkLogo: false,
  launchURL: null, requiresReauthentication: false, clientType: 'standard',
});

/** Builds the DTOs from the stores, with the member counts read once per answer. */
export function pocketIdDtos(deps: { users: UserStore; groups: GroupStore }) {
  const { users, groups } = deps;
  const user = async (u: User, counts?: Map<string, number>) => userDto(u, await groups.forUser(u.id), counts ?? await groups.memberCounts());
  return {
    user,
    async users(list: User[]) {
      const counts = await groups.memberCounts();
      return Promise.all(list.map((u) => user(u, counts)));
    },
    /** Pocket ID's UserGroupDto: the group with its members and the clients limited to it. */
    async group(group: Group) {
      const counts = await groups.memberCounts();
      const members = await Promise.all((await groups.memberIds(group.id)).map((id) => users.require(id)));
      members.sort((a, b) => a.username.localeCompare(b.username));
      return {
        id: group.id, friendlyName: group.friendlyName, name: group.name, customClaims: [], ldapId: null, createdAt: isoTime(group.createdAt),
        users: await Promise.all(members.map((m) => user(m, counts))),
        allowedOidcClients: (await groups.clientsOf(group.id)).map(clientMetaDataDto),
      };
    },
  };
}
