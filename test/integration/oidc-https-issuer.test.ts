import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock } from '../../src/core/clock.ts';
import { createClientsService } from '../../src/oidc/clients.ts';
import { createOidcProvider, type OidcProvider } from '../../src/oidc/provider.ts';
import { oidcRoutes } from '../../src/oidc/routes.ts';
import { openMigratedDatabase, type Database } from '../../src/storage/database.ts';

// Production shape: APP_URL is https, TLS ends at a reverse proxy, TRUST_PROXY is off.
describe('an https issuer behind an untrusted proxy', () => {
  let database: Database;
  let oidc: OidcProvider;
  let app: FastifyInstance;
  before(async () => {
    database = await openMigratedDatabase(':memory:');
    oidc = await createOidcProvider({
      issuer: 'https://id.example.com', db: database.db, clock: systemClock, encryptionKey: Buffer.from('k'.repeat(32)), signingAlg: 'RS256',
      sessionTtlSeconds: 3600, cookieKeys: ['cookie-key'], trustProxy: false, keyCheckIntervalSeconds: 0,
      currentSignIn: async () => null, loginUrl: (uid) => `https://id.example.com/login?uid=${uid}`, audit: async () => {},
    });
    await createClientsService({ db: database.db, clock: systemClock }).create({ id: 'app', name: 'App', redirectUris: ['https://app.example.com/cb'], unrestricted: true });
    app = Fastify();
    await app.register(oidcRoutes, { oidc });
    await app.ready();
  });
  after(async () => {
    oidc.close();
    await app.close();
    await database.close();
  });

  it('builds every discovery URL from APP_URL, whatever Host and X-Forwarded-* say', async () => {
    const response = await app.inject({ url: '/.well-known/openid-configuration', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } });
    const metadata = response.json() as Record<string, unknown>;
    assert.equal(metadata.issuer, 'https://id.example.com');
    for (const [key, value] of Object.entries(metadata))
      if (key.endsWith('_endpoint') || key === 'jwks_uri') assert.ok(String(value).startsWith('https://id.example.com/'), `${key}: ${value}`);
  });

  it('sets its cookies Secure although the proxy\'s forwarded scheme is not trusted', async () => {
    const response = await app.inject({
      url: '/authorize?response_type=code&client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid&code_challenge=' + 'a'.repeat(43) + '&code_challenge_method=S256',
      headers: { accept: 'text/html' },
    });
    assert.equal(response.statusCode, 303);
    assert.match(String(response.headers.location), /^https:\/\/id\.example\.com\/interaction\//);
    const cookies = [response.headers['set-cookie']].flat().filter(Boolean) as string[];
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) assert.match(cookie, /;\s*secure/i, cookie);
  });

  it('never offers an HS* algorithm anywhere in discovery', async () => {
    const metadata = (await app.inject({ url: '/.well-known/openid-configuration' })).json() as Record<string, unknown>;
    const algs = Object.entries(metadata).filter(([k]) => k.endsWith('alg_values_supported')).flatMap(([, v]) => v as string[]);
    assert.ok(algs.length > 0);
    assert.deepEqual(algs.filter((alg) => alg.startsWith('HS')), []);
  });
});
