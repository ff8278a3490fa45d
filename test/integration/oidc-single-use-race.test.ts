// Concurrent token requests for one authorization code or one refresh token, on SQLite and on
// PostgreSQL (a fresh database): exactly one request is served, every other one gets invalid_grant,
// and the reuse revokes the grant, as oidc-provider does when it sees a consumed code or refresh
// token (RFC 9700 §4.1 and §4.14.2; RFC 6749 §4.1.2). PostgreSQL runs the requests in parallel, so
// there only an atomic consume keeps a code single-use.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createTestPostgres } from '../helpers/backends.ts';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { authorizeInBrowser } from '../helpers/oidc-flow.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';

const REDIRECT_URI = 'https://app.example.com/oauth2/callback';
const CONCURRENT = 8;
// A race that slips through is usually, not always, visible in one round: several rounds each.
const ROUNDS = 3;

interface TokenBody { access_token?: string; refresh_token?: string; error?: string }

const backends = [
  ['SQLite', async () => ({ connection: ':memory:', drop: async () => {} })],
  ['PostgreSQL', async () => {
    const postgres = await createTestPostgres();
    return { connection: postgres.url, drop: postgres.drop };
  }],
] as const;

for (const [name, createDatabase] of backends) {
  describe(`single-use codes and refresh tokens under concurrent token requests on ${name}`, () => {
    let server: OidcTestServer;
    let drop: () => Promise<void>;
    let alice: string;
    let app: { clientId: string; secret: string };

    before(async () => {
      const database = await createDatabase();
      drop = database.drop;
      server = await startOidcTestServer({ database: database.connection });
      alice = await server.createUser({ username: 'alice', groups: ['friends'] });
      const created = await server.createClient({ id: 'app', name: 'App', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
      app = { clientId: created.clientId, secret: created.secret! };
    });
    after(async () => {
      await server.close();
      await drop();
    });

    async function freshCode() {
      const verifier = client.randomPKCECodeVerifier();
      const challenge = await client.calculatePKCECodeChallenge(verifier);
      const url = `${server.issuer}/authorize?${new URLSearchParams({
        response_type: 'code', scope: 'openid email', client_id: app.clientId, redirect_uri: REDIRECT_URI,
        state: 's', code_challenge: challenge, code_challenge_method: 'S256',
      })}`;
      const outcome = await authorizeInBrowser(server, new BrowserJar(), url, alice, REDIRECT_URI);
      const code = outcome.callback?.searchParams.get('code');
      assert.ok(code, `no code: ${outcome.finalStatus} ${outcome.finalBody}`);
      return { code, verifier };
    }

    async function tokenRequest(body: Record<string, string>): Promise<{ status: number; body: TokenBody }> {
      const response = await fetch(`${server.issuer}/api/oidc/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${app.secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI, ...body }),
      });
      return { status: response.status, body: await response.json() as TokenBody };
    }

    const all = (body: Record<string, string>) => Promise.all(Array.from({ length: CONCURRENT }, () => tokenRequest(body)));

    /** Exactly one 200; every other answer is a 400 invalid_grant (never a 500). Returns the winner's tokens. */
    function oneWinner(results: { status: number; body: TokenBody }[]): TokenBody {
      const statuses = results.map((r) => r.status).join(',');
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, `one request served, got statuses ${statuses}`);
      for (const loser of results.filter((r) => r.status !== 200)) {
        assert.equal(loser.status, 400, `statuses ${statuses}`);
        assert.equal(loser.body.error, 'invalid_grant');
      }
      return winners[0]!.body;
    }

    async function assertRevoked(tokens: TokenBody) {
      const userinfo = await fetch(`${server.issuer}/api/oidc/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(userinfo.status, 401, 'the winner\'s access token is revoked');
      await userinfo.body?.cancel();
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      assert.equal(refresh.status, 400, 'the winner\'s refresh token is revoked');
      assert.equal(refresh.body.error, 'invalid_grant');
    }

    it('redeems an authorization code once when several token requests race, and revokes what it issued', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { code, verifier } = await freshCode();
        const winner = oneWinner(await all({ code, code_verifier: verifier }));
        await assertRevoked(winner);
      }
    });

    it('spends a refresh token once when several refresh requests race, and revokes the grant', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { code, verifier } = await freshCode();
        const first = await tokenRequest({ code, code_verifier: verifier });
        assert.equal(first.status, 200);
        const winner = oneWinner(await all({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token! }));
        assert.notEqual(winner.refresh_token, first.body.refresh_token, 'the refresh token rotates');
        await assertRevoked(winner);
        await assertRevoked(first.body);
      }
    });

    it('still serves codes and refresh tokens used one at a time', async () => {
      const { code, verifier } = await freshCode();
      const first = await tokenRequest({ code, code_verifier: verifier });
      assert.equal(first.status, 200);
      const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token! });
      assert.equal(second.status, 200);
      const third = await tokenRequest({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token! });
      assert.equal(third.status, 200);
      const userinfo = await fetch(`${server.issuer}/api/oidc/userinfo`, { headers: { authorization: `Bearer ${third.body.access_token}` } });
      assert.equal(userinfo.status, 200);
      await userinfo.body?.cancel();
    });
  });
}
