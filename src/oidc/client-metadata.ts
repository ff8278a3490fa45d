import type { ClientMetadata } from 'oidc-provider';
import type { Db } from '../storage/database.ts';
import type { OidcClientsTable } from '../storage/schema.ts';

export const loadClientRow = (db: Db, clientId: string): Promise<OidcClientsTable | undefined> =>
  db.selectFrom('oidc_clients').selectAll().where('id', '=', clientId).executeTakeFirst();

/**
 * What oidc-provider knows about a client. `client_secret` holds the SHA-256 of the secret, never
 * the secret: the provider compares hashes (see secret-comparison.ts), and HS* algorithms, which
 * would use this value as a key, are disabled in the provider's configuration.
 */
export function clientMetadataOf(row: OidcClientsTable): ClientMetadata {
  const isPublic = row.is_public === 1;
  return {
    client_id: row.id,
    client_name: row.name,
    ...(isPublic ? { token_endpoint_auth_method: 'none' } : { client_secret: row.secret_hash ?? '', token_endpoint_auth_method: 'client_secret_basic' }),
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    ...(row.backchannel_logout_uri ? { backchannel_logout_uri: row.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    require_pkce: isPublic || row.require_pkce === 1,
  };
}
