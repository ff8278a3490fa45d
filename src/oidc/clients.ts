import type { Clock } from '../core/clock.ts';
import { sha256Base64url } from '../core/crypto.ts';
import { badRequest, conflict, notFound } from '../core/errors.ts';
import { randomId, randomToken } from '../core/random.ts';
import type { Db, DbOrTransaction } from '../storage/database.ts';
import type { OidcClientsTable } from '../storage/schema.ts';
import { refusingDuplicates } from '../identity/unique-violation.ts';
import { refuseUnknownIds } from '../identity/unknown-ids.ts';
import { forgetClient } from './logout-user.ts';
import { validateClientId, validateClientName, validateClientUri, validateUriList } from './validate-client-input.ts';

export interface OidcClient {
  id: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  isPublic: boolean;
  /** Always true for public clients. */
  requirePkce: boolean;
  /** Group names whose members may sign in; ignored when `unrestricted`. */
  allowedGroups: string[];
  unrestricted: boolean;
  backchannelLogoutUri: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface ClientInput {
  id?: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  isPublic?: boolean;
  requirePkce?: boolean;
  allowedGroups?: string[];
  unrestricted?: boolean;
  backchannelLogoutUri?: string | null;
}

export type ClientPatch = Partial<Omit<ClientInput, 'id'>>;

/**
 * 32 random bytes (256 bits) from the CSPRNG. Only its SHA-256 is stored. A slow password hash
 * (bcrypt, Argon2) exists to make guessing low-entropy human passwords expensive; a uniformly random
 * 256-bit value cannot be guessed at any speed, so a fast preimage-resistant hash loses nothing and
 * keeps token-endpoint authentication cheap. The hash is compared in constant time
 * (secret-comparison.ts).
 */
const newSecret = () => {
  const secret = randomToken(32);
  return { secret, hash: sha256Base64url(secret) };
};

/**
 * `managedIds`: clients another part of latchkey sets up itself (serve's own, SERVE_CLIENT_ID),
 * which the console, the API and the CLI may show but not create, change or delete: a regenerated
 * secret or a deleted client would break every sign-in to the site until the next start.
 */
export function createClientsService(deps: { db: Db; clock: Clock; managedIds?: ReadonlySet<string> }) {
  const { db, clock } = deps;
  const assertNotManaged = (id: string) => {
    if (deps.managedIds?.has(id))
      throw conflict('client_managed', `The app "${id}" belongs to latchkey serve, which sets it up at every start; it cannot be created, changed or deleted here.`);
  };

  async function groupIdsFor(names: readonly string[]): Promise<string[]> {
    const unique = [...new Set(names)];
    if (!unique.length) return [];
    const rows = await db.selectFrom('groups').select(['id', 'name']).where('name', 'in', unique).execute();
    const missing = unique.filter((n) => !rows.some((r) => r.name === n));
    if (missing.length) throw badRequest('unknown_group', `No group named ${missing.map((m) => `"${m}"`).join(', ')} exists; create it first.`, { fields: { allowedGroups: 'invalid' } });
    return rows.map((r) => r.id);
  }

  async function setGroups(trx: DbOrTransaction, clientId: string, groupIds: string[]): Promise<void> {
    await trx.deleteFrom('client_groups').where('client_id', '=', clientId).execute();
    if (groupIds.length) await trx.insertInto('client_groups').values(groupIds.map((group_id) => ({ client_id: clientId, group_id }))).execute();
  }

  async function toClient(row: OidcClientsTable): Promise<OidcClient> {
    const groups = await db.selectFrom('client_groups').innerJoin('groups', 'groups.id', 'client_groups.group_id')
      .select('groups.name').where('client_groups.client_id', '=', row.id).orderBy('groups.name').execute();
    return {
      id: row.id, name: row.name,
      redirectUris: JSON.parse(row.redirect_uris) as string[],
      postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
      isPublic: row.is_public === 1, requirePkce: row.is_public === 1 || row.require_pkce === 1,
      allowedGroups: groups.map((g) => g.name), unrestricted: row.unrestricted === 1,
      backchannelLogoutUri: row.backchannel_logout_uri, createdAt: row.created_at, updatedAt: row.updated_at,
    };
  }

  const rowOf = async (id: string) => {
    const row = await db.selectFrom('oidc_clients').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('This OIDC client');
    return row;
  };

  return {
    /** Whether another part of latchkey sets this client up (serve's own): shown, never changed here. */
    isManaged: (id: string): boolean => deps.managedIds?.has(id) ?? false,

    /** Returns the secret once (null for a public client); it cannot be read back later. */
    async create(input: ClientInput): Promise<{ client: OidcClient; secret: string | null }> {
      const id = input.id === undefined ? randomId() : validateClientId(input.id);
      assertNotManaged(id);
      const name = validateClientName(input.name);
      const redirectUris = validateUriList(input.redirectUris, 'redirectUris', { atLeastOne: true });
      const postLogoutRedirectUris = validateUriList(input.postLogoutRedirectUris ?? [], 'postLogoutRedirectUris', { atLeastOne: false });
      const backchannelLogoutUri = input.backchannelLogoutUri ? validateClientUri(input.backchannelLogoutUri, 'backchannelLogoutUri') : null;
      const groupIds = await groupIdsFor(input.allowedGroups ?? []);
      const idTaken = () => conflict('client_id_taken', `A client with the ID "${id}" already exists.`);
      if (await db.selectFrom('oidc_clients').select('id').where('id', '=', id).executeTakeFirst()) throw idTaken();
      const isPublic = input.isPublic === true;
      const fresh = isPublic ? null : newSecret();
      const now = clock.nowMs();
      // Another request may have taken the id since the check: the primary key says so (409, not 500).
      await refusingDuplicates(() => db.transaction().execute(async (trx) => {
        await trx.insertInto('oidc_clients').values({
          id, name, secret_hash: fresh?.hash ?? null,
          redirect_uris: JSON.stringify(redirectUris), post_logout_redirect_uris: JSON.stringify(postLogoutRedirectUris),
          is_public: isPublic ? 1 : 0, require_pkce: isPublic || input.requirePkce ? 1 : 0,
          unrestricted: input.unrestricted ? 1 : 0, backchannel_logout_uri: backchannelLogoutUri,
          created_at: now, updated_at: now,
        }).execute();
        await setGroups(trx, id, groupIds);
      }), 'oidc_clients', { id: idTaken });
      return { client: await toClient(await rowOf(id)), secret: fresh?.secret ?? null };
    },

    async list(): Promise<OidcClient[]> {
      const rows = await db.selectFrom('oidc_clients').selectAll().orderBy('name').orderBy('id').execute();
      return Promise.all(rows.map(toClient));
    },

    async get(id: string): Promise<OidcClient> {
      return toClient(await rowOf(id));
    },

    /** A client that becomes confidential gets a new secret, returned once. */
    async update(id: string, patch: ClientPatch): Promise<{ client: OidcClient; secret: string | null }> {
      assertNotManaged(id);
      const row = await rowOf(id);
      const changes: Partial<OidcClientsTable> = { updated_at: clock.nowMs() };
      if (patch.name !== undefined) changes.name = validateClientName(patch.name);
      if (patch.redirectUris !== undefined) changes.redirect_uris = JSON.stringify(validateUriList(patch.redirectUris, 'redirectUris', { atLeastOne: true }));
      if (patch.postLogoutRedirectUris !== undefined)
        changes.post_logout_redirect_uris = JSON.stringify(validateUriList(patch.postLogoutRedirectUris, 'postLogoutRedirectUris', { atLeastOne: false }));
      if (patch.backchannelLogoutUri !== undefined)
        changes.backchannel_logout_uri = patch.backchannelLogoutUri ? validateClientUri(patch.backchannelLogoutUri, 'backchannelLogoutUri') : null;
      if (patch.unrestricted !== undefined) changes.unrestricted = patch.unrestricted ? 1 : 0;
      const isPublic = patch.isPublic ?? row.is_public === 1;
      let secret: string | null = null;
      if (isPublic) {
        changes.is_public = 1;
        changes.secret_hash = null;
      } else if (row.is_public === 1) {
        const fresh = newSecret();
        secret = fresh.secret;
        changes.is_public = 0;
        changes.secret_hash = fresh.hash;
      }
      changes.require_pkce = isPublic || (patch.requirePkce ?? row.require_pkce === 1) ? 1 : 0;
      const groupIds = patch.allowedGroups === undefined ? null : await groupIdsFor(patch.allowedGroups);
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('oidc_clients').set(changes).where('id', '=', id).execute();
        if (groupIds) await setGroups(trx, id, groupIds);
        // its refresh tokens were issued against a secret; a public client would use them without one
        if (isPublic && row.is_public !== 1) await forgetClient(trx, id);
      });
      return { client: await toClient(await rowOf(id)), secret };
    },

    /** The old secret stops working at once. */
    async regenerateSecret(id: string): Promise<{ client: OidcClient; secret: string }> {
      assertNotManaged(id);
      const row = await rowOf(id);
      if (row.is_public === 1) throw badRequest('public_client', 'A public client has no secret.');
      const fresh = newSecret();
      await db.updateTable('oidc_clients').set({ secret_hash: fresh.hash, updated_at: clock.nowMs() }).where('id', '=', id).execute();
      return { client: await toClient(await rowOf(id)), secret: fresh.secret };
    },

    /**
     * Sets which clients admit a group's members (Pocket ID's "allowed OIDC clients" of a group):
     * the group joins these clients' allowed groups and leaves every other client's. An unknown
     * client id is refused, naming it, and nothing changes.
     */
    async setClientsOfGroup(groupId: string, clientIds: readonly string[]): Promise<void> {
      const unique = [...new Set(clientIds)];
      await db.transaction().execute(async (trx) => {
        if (!(await trx.selectFrom('groups').select('id').where('id', '=', groupId).executeTakeFirst())) throw notFound('This group');
        const found = unique.length ? await trx.selectFrom('oidc_clients').select('id').where('id', 'in', unique).execute() : [];
        refuseUnknownIds(unique, found, { code: 'unknown_client', what: 'OIDC client', field: 'oidcClientIds' });
        await trx.deleteFrom('client_groups').where('group_id', '=', groupId).execute();
        if (unique.length) await trx.insertInto('client_groups').values(unique.map((client_id) => ({ client_id, group_id: groupId }))).execute();
        const now = clock.nowMs();
        if (unique.length) await trx.updateTable('oidc_clients').set({ updated_at: now }).where('id', 'in', unique).execute();
      });
    },

    /**
     * Its tokens stop working at once, and for good: they are deleted with it, so a client
     * registered later under the same id (another app) cannot use them.
     */
    async delete(id: string): Promise<void> {
      assertNotManaged(id);
      await rowOf(id);
      await db.transaction().execute(async (trx) => {
        await forgetClient(trx, id);
        await trx.deleteFrom('client_groups').where('client_id', '=', id).execute();
        await trx.deleteFrom('oidc_clients').where('id', '=', id).execute();
      });
    },
  };
}

export type ClientsService = ReturnType<typeof createClientsService>;
