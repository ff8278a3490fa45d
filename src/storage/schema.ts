// Times are integer milliseconds since the epoch; booleans are 0/1 integers. Both read the same
// from SQLite and PostgreSQL, so no query needs a dialect branch.
export interface UsersTable {
  id: string;
  username: string;
  email: string | null;
  first_name: string;
  last_name: string;
  is_admin: number;
  disabled: number;
  email_verified: number;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  id: string;
  name: string;
  friendly_name: string;
  created_at: number;
}

export interface UserGroupsTable {
  user_id: string;
  group_id: string;
}

export interface PasskeysTable {
  /** The credential ID, base64url. */
  id: string;
  user_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  sign_count: number;
  transports: string;
  name: string;
  aaguid: string;
  backup_eligible: number;
  backup_state: number;
  created_at: number;
  last_used_at: number | null;
}

export interface OneTimeLinksTable {
  /** SHA-256 of the token; the token itself exists only in the link handed out. */
  token_hash: string;
  /** 'setup' (first admin; no user yet) or 'signin' (register a passkey / recover). */
  purpose: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface WebSessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: string;
  created_at: number;
  event: string;
  user_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
}

export interface OidcClientsTable {
  id: string;
  name: string;
  secret_hash: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  is_public: number;
  unrestricted: number;
  backchannel_logout_uri: string | null;
  /** 1 when a confidential client must also use PKCE (public clients always must). */
  require_pkce: number;
  created_at: number;
  updated_at: number;
}

export interface ClientGroupsTable {
  client_id: string;
  group_id: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** The private JWK, sealed with ENCRYPTION_KEY. */
  private_jwk_sealed: string;
  created_at: number;
  /** Set when a newer key took over signing; the key is still published until retire_at. */
  superseded_at: number | null;
  retire_at: number | null;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** The payload's accountId (sessions, grants, tokens), so one user's can be found and ended. */
  account_id: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

export interface RecoveryCodesTable {
  /** SHA-256 of the user id and the normalised code; the code itself is shown once, never stored. */
  code_hash: string;
  user_id: string;
  created_at: number;
  used_at: number | null;
}

export interface EphemeralTable {
  key: string;
  value: string;
  expires_at: number;
}

export interface AppStateTable {
  key: string;
  value: string;
}

export interface Schema {
  users: UsersTable;
  groups: GroupsTable;
  user_groups: UserGroupsTable;
  passkeys: PasskeysTable;
  one_time_links: OneTimeLinksTable;
  web_sessions: WebSessionsTable;
  audit_log: AuditLogTable;
  oidc_clients: OidcClientsTable;
  client_groups: ClientGroupsTable;
  signing_keys: SigningKeysTable;
  oidc_payloads: OidcPayloadsTable;
  api_keys: ApiKeysTable;
  recovery_codes: RecoveryCodesTable;
  ephemeral: EphemeralTable;
  app_state: AppStateTable;
}
