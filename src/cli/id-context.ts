import { loadIdConfig, type IdConfig } from '../config/id-config.ts';
import { systemClock } from '../core/clock.ts';
import { deriveKey } from '../core/crypto.ts';
import { createIdentity, type Identity } from '../identity/index.ts';
import type { LogoutReport } from '../oidc/logout-user.ts';
import type { OidcProvider } from '../oidc/provider.ts';
import { existsSync } from 'node:fs';
import { isPostgresUrl, openDatabaseForCommand, sqlitePathOf, type Database } from '../storage/database.ts';
import { SERVE_CLIENT_ID } from '../app/serve-client.ts';
import { usageError } from './args.ts';

/** What the admin commands share: the same configuration and database as `latchkey id`. */
export interface IdContext {
  config: Readonly<IdConfig>;
  database: Database;
  identity: Identity;
  /**
   * What the admin console and API do after removing or disabling a user (id-app.ts,
   * logoutEverywhere): end their provider sessions, revoke their grants and tokens, and send
   * back-channel logout to the apps they used, so a command does not leave them signed in there.
   */
  logoutEverywhere(userId: string): Promise<LogoutReport>;
  close(): Promise<void>;
}

export async function openIdContext(env = process.env): Promise<IdContext> {
  // The server's key, never a new one: on localhost without ENCRYPTION_KEY a missing key file is
  // a configuration problem (id-config.ts, EncryptionKeyOptions). That includes `setup-link` and
  // `user add` on a new installation before the server ever ran: making the key (and a database)
  // here would often make them in the wrong folder (this shell's, not the server's), where the
  // server never finds them, and nothing is lost by refusing: the server's first start makes both
  // and prints the setup link itself. The problem says to start latchkey id (or serve) first.
  const config = loadIdConfig({ env });
  // DB_CONNECTION_STRING's default is relative to the current folder: a command run elsewhere than
  // latchkey id (the guide's environment sets no DB_CONNECTION_STRING) made a new, empty database
  // and answered from it ("No users yet.", a setup link the server does not know) without a word.
  const defaultPath = env.DB_CONNECTION_STRING === undefined && env.DB_CONNECTION_STRING_FILE === undefined
    && !isPostgresUrl(config.dbConnectionString) ? sqlitePathOf(config.dbConnectionString) : null;
  const madeNew = defaultPath !== null && !existsSync(defaultPath);
  const database = await openDatabaseForCommand(config.dbConnectionString);
  if (madeNew)
    console.error(`latchkey: there was no database at ${defaultPath}, so a new, empty one was made there: DB_CONNECTION_STRING is not set, and its default (${config.dbConnectionString}) is relative to the current folder. If latchkey id runs with another database, set DB_CONNECTION_STRING to it.`);
  try {
    await refuseServeDatabaseWithoutAppUrl(database, env);
  } catch (error) {
    await database.close();
    throw error;
  }
  const identity = createIdentity({ db: database.db, clock: systemClock, sessionTtlSeconds: config.sessionDurationSeconds, appName: config.appName });
  let oidc: OidcProvider | null = null;
  return {
    config, database, identity,
    async logoutEverywhere(userId) {
      // Loaded on demand: most commands never need oidc-provider and its signing keys.
      oidc ??= await openOidcProvider(config, database, identity);
      return oidc.logoutUser(userId);
    },
    async close() {
      oidc?.close();
      await database.close();
    },
  };
}

/**
 * A database that `latchkey serve` uses (it holds serve's own client) has serve's --id-url as its
 * issuer, which the command cannot know: with APP_URL's default (http://localhost:1411) it would
 * print links to nowhere and sign logout tokens the site refuses, leaving a disabled user signed in.
 */
async function refuseServeDatabaseWithoutAppUrl(database: Database, env: NodeJS.ProcessEnv): Promise<void> {
  if (env.APP_URL || env.APP_URL_FILE || env.PUBLIC_APP_URL) return;
  const serveClient = await database.db.selectFrom('oidc_clients').select('id').where('id', '=', SERVE_CLIENT_ID).executeTakeFirst();
  if (serveClient)
    throw usageError('this is the database of latchkey serve: set APP_URL to its identity provider\'s address (serve\'s --id-url, http://localhost:8081 for the default --url), so that links and sign-outs reach it; e.g. APP_URL=http://localhost:8081 DB_CONNECTION_STRING=data/latchkey.db latchkey user list');
}

/**
 * The provider as `latchkey id` builds it, for signing logout tokens only: it serves no requests,
 * so nobody signs in through it. Same issuer, keys and key-propagation delay as the server, so the
 * apps verify its tokens against the server's JWKS.
 */
async function openOidcProvider(config: Readonly<IdConfig>, database: Database, identity: Identity): Promise<OidcProvider> {
  const [{ createOidcProvider }, { currentSigningAlg }] = await Promise.all([import('../oidc/provider.ts'), import('../oidc/keys.ts')]);
  // The server's algorithm, not this shell's OIDC_SIGNING_ALG: another one would rotate the server's key.
  const signingAlg = (await currentSigningAlg(database.db)) ?? config.signingAlg;
  return createOidcProvider({
    issuer: config.origin, db: database.db, clock: systemClock, encryptionKey: config.encryptionKey, signingAlg,
    sessionTtlSeconds: config.sessionDurationSeconds, cookieKeys: [deriveKey(config.encryptionKey, 'oidc-cookies').toString('base64url')],
    trustProxy: false, currentSignIn: async () => null, loginUrl: () => `${config.origin}/login`,
    audit: (event) => identity.audit.record(event),
  });
}

export async function withIdContext<T>(work: (context: IdContext) => Promise<T>): Promise<T> {
  const context = await openIdContext();
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}
