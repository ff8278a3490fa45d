// The shared corpus's redirect_uri_mismatch cases against the provider: a client registered for
// https://agents.example.com/oauth2/callback must never be redirected to a near miss.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { startOidcTestServer, type OidcTestServer } from '../helpers/oidc-test-server.ts';
import { loadRedirectCorpus } from '../helpers/corpus.ts';

const corpus = loadRedirectCorpus();
const REGISTERED = `${corpus.site}/oauth2/callback`;

describe('the shared corpus of redirect-URI near misses', () => {
  let server: OidcTestServer;
  let clientId: string;
  before(async () => {
    server = await startOidcTestServer();
    ({ clientId } = await server.createClient({ id: 'agents', name: 'Agents', redirectUris: [REGISTERED], unrestricted: true }));
  });
  after(() => server.close());

  for (const { value } of corpus.redirect_uri_mismatch) {
    it(`shows an error page and never redirects for ${JSON.stringify(value)}`, async () => {
      const query = new URLSearchParams({ response_type: 'code', scope: 'openid', client_id: clientId, redirect_uri: value, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const response = await new BrowserJar().fetch(`${server.issuer}/authorize?${query}`);
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('location'), null);
    });
  }

  it('still accepts the registered URI itself, so the cases above fail for the right reason', async () => {
    const query = new URLSearchParams({ response_type: 'code', scope: 'openid', client_id: clientId, redirect_uri: REGISTERED, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const response = await new BrowserJar().fetch(`${server.issuer}/authorize?${query}`);
    assert.ok([302, 303].includes(response.status), `status ${response.status}`);
  });
});
