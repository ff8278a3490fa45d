// latchkey's OIDC provider on 127.0.0.1:0 (issuer http://localhost:PORT) with a :memory: database
// and a TEST-ONLY sign-in seam: GET /test/login?user=ID&uid=UID sets a cookie naming the user and
// goes back to /interaction/UID, standing in for the passkey sign-in the id server wires later.
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock } from '../../src/core/clock.ts';
import { randomId } from '../../src/core/random.ts';
import type { AuditEvent } from '../../src/identity/audit-log.ts';
import { createClientsService, type ClientInput, type ClientsService } from '../../src/oidc/clients.ts';
import type { SigningAlg } from '../../src/oidc/keys.ts';
import { createOidcProvider, type OidcProvider, type OidcProviderDeps } from '../../src/oidc/provider.ts';
import { oidcRoutes } from '../../src/oidc/routes.ts';
import { openMigratedDatabase, type Database, type Db } from '../../src/storage/database.ts';

export const TEST_USER_COOKIE = 'test_user';
/** Optional: when the test user "signed in" (epoch seconds); otherwise when the server started. */
export const TEST_AUTH_TIME_COOKIE = 'test_auth_time';

export interface OidcTestServer {
  /** http://localhost:PORT, the issuer. */
  issuer: string;
  port: number;
  app: FastifyInstance;
  db: Db;
  oidc: OidcProvider;
  clients: ClientsService;
  auditEvents: AuditEvent[];
  endedSessions: string[];
  createUser(input: { username: string; email?: string; firstName?: string; lastName?: string; groups?: string[]; disabled?: boolean }): Promise<string>;
  createGroup(name: string): Promise<void>;
  createClient(input: ClientInput): Promise<{ clientId: string; secret: string | null }>;
  /** The URL the test sign-in seam answers: marks `userId` signed in and returns to the interaction. */
  loginUrl(uid: string, userId: string): string;
  close(): Promise<void>;
}

export async function startOidcTestServer(options: { signingAlg?: SigningAlg; keyCheckIntervalSeconds?: number; database?: string } = {}): Promise<OidcTestServer> {
  const database: Database = await openMigratedDatabase(options.database ?? ':memory:');
  const { db } = database;
  const app = Fastify({ logger: false });
  await app.register(cookie);
  const auditEvents: AuditEvent[] = [];
  const endedSessions: string[] = [];

  // The issuer needs the port, which exists only after listen: reserve it first, then mount.
  await app.register(async (scope) => {
    scope.get<{ Querystring: { user: string; uid: string } }>('/test/login', async (request, reply) => {
      reply.setCookie(TEST_USER_COOKIE, request.query.user, { path: '/', httpOnly: true, sameSite: 'lax' });
      // a sign-in happens now, as a passkey sign-in would
      reply.setCookie(TEST_AUTH_TIME_COOKIE, String(Math.floor(Date.now() / 1000)), { path: '/', httpOnly: true, sameSite: 'lax' });
      return reply.redirect(`/interaction/${encodeURIComponent(request.query.uid)}`, 303);
    });
    scope.get('/test/logout', async (_request, reply) => reply.clearCookie(TEST_USER_COOKIE, { path: '/' }).send('ok'));
    scope.get<{ Querystring: { uid: string } }>('/test/sign-in', async (request, reply) =>
      reply.type('text/html').send(`<p>passkey sign-in for ${encodeURIComponent(request.query.uid)}</p>`));
  });

  // Routes must exist before listen, the provider needs the port: the routes get a forwarder.
  const live: { oidc?: OidcProvider } = {};
  app.register(async (scope) => {
    await oidcRoutes(scope, { oidc: { get deps() { return live.oidc!.deps; }, current: () => live.oidc!.current(), handle: (req, res) => live.oidc!.handle(req, res) } as OidcProvider });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const issuer = `http://localhost:${port}`;

  const startedAt = Math.floor(Date.now() / 1000);
  const deps: OidcProviderDeps = {
    issuer, db, clock: systemClock, encryptionKey: Buffer.from('test-encryption-key-0123456789abcdef'),
    signingAlg: options.signingAlg ?? 'RS256', sessionTtlSeconds: 3600, cookieKeys: ['test-cookie-key-one', 'test-cookie-key-two'],
    trustProxy: false,
    // signed in when the server started, unless the test says when (TEST_AUTH_TIME_COOKIE, epoch seconds)
    currentSignIn: async (request) => {
      const userId = request.cookies[TEST_USER_COOKIE];
      return userId ? { userId, authTime: Number(request.cookies[TEST_AUTH_TIME_COOKIE]) || startedAt } : null;
    },
    loginUrl: (uid, options) => `${issuer}/test/sign-in?uid=${encodeURIComponent(uid)}${options?.again ? '&again=1' : ''}`,
    onEndSession: async ({ userId }) => { endedSessions.push(userId); },
    audit: async (event) => { auditEvents.push(event); },
    keyCheckIntervalSeconds: options.keyCheckIntervalSeconds ?? 0,
  };
  const oidc = await createOidcProvider(deps);
  live.oidc = oidc;
  const clients = createClientsService({ db, clock: systemClock });

  const createGroup = async (name: string) => {
    await db.insertInto('groups').values({ id: randomId(), name, friendly_name: name, created_at: Date.now() }).onConflict((oc) => oc.column('name').doNothing()).execute();
  };

  return {
    issuer, port, app, db, oidc, clients, auditEvents, endedSessions, createGroup,
    async createUser(input) {
      const id = randomId();
      const now = Date.now();
      await db.insertInto('users').values({
        id, username: input.username, email: input.email ?? `${input.username}@example.com`, first_name: input.firstName ?? '', last_name: input.lastName ?? '',
        is_admin: 0, disabled: input.disabled ? 1 : 0, email_verified: 1, created_at: now, updated_at: now,
      }).execute();
      for (const group of input.groups ?? []) {
        await createGroup(group);
        const row = await db.selectFrom('groups').select('id').where('name', '=', group).executeTakeFirstOrThrow();
        await db.insertInto('user_groups').values({ user_id: id, group_id: row.id }).execute();
      }
      return id;
    },
    async createClient(input) {
      for (const group of input.allowedGroups ?? []) await createGroup(group);
      const { client, secret } = await clients.create(input);
      return { clientId: client.id, secret };
    },
    loginUrl: (uid, userId) => `${issuer}/test/login?user=${encodeURIComponent(userId)}&uid=${encodeURIComponent(uid)}`,
    async close() {
      oidc.close();
      await app.close();
      await database.close();
    },
  };
}
