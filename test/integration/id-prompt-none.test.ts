// prompt=none against a real `latchkey id`, whose web session comes from a passkey sign-in: once
// the provider's own session has expired, the web session alone signs a silent request in, and
// only while it is live.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { authorizeWithPasskey, enrollUser, signOut, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REDIRECT_URI = 'http://localhost:9/oauth2/callback';

describe('latchkey id: prompt=none from the web session after the provider session expired', () => {
  let id: IdServer;
  let browser: IdBrowser;
  let alice: { id: string };
  let clientId: string;

  before(async () => {
    id = await startIdServer();
    ({ user: alice, browser } = await enrollUser(id, { username: 'alice', groups: ['friends'] }));
    ({ client: { id: clientId } } = await id.services.clients.create({ name: 'agents', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] }));
  });
  after(() => id.close());

  async function authorize(extra: Record<string, string> = {}) {
    const url = `${id.origin}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope: 'openid email', state: 's',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...extra,
    })}`;
    return authorizeWithPasskey(browser, id, url, REDIRECT_URI);
  }

  // What the provider session's expiry does to its stored row; its grant lives on with the tokens.
  const expireProviderSessions = () => id.services.database.db.deleteFrom('oidc_payloads').where('model', '=', 'Session').execute();

  it('issues a code silently while the passkey sign-in is live', async () => {
    const first = await authorize();
    assert.equal(first.signedInWithPasskey, true);
    assert.ok(first.callback?.searchParams.get('code'));
    await expireProviderSessions();

    const silent = await authorize({ prompt: 'none' });
    assert.equal(silent.signedInWithPasskey, false);
    assert.ok(silent.callback?.searchParams.get('code'), `got ${silent.callback?.href ?? silent.finalStatus}`);
  });

  it('answers login_required once the web session has expired', async () => {
    await expireProviderSessions();
    await id.services.database.db.updateTable('web_sessions').set({ expires_at: Date.now() - 1000 }).where('user_id', '=', alice.id).execute();
    const silent = await authorize({ prompt: 'none' });
    assert.equal(silent.callback?.searchParams.get('error'), 'login_required');
  });

  it('answers login_required after signing out of latchkey', async () => {
    await id.services.database.db.updateTable('web_sessions').set({ expires_at: Date.now() + 3_600_000 }).where('user_id', '=', alice.id).execute();
    assert.ok((await authorize({ prompt: 'none' })).callback?.searchParams.get('code'));
    await signOut(browser);
    const silent = await authorize({ prompt: 'none' });
    assert.equal(silent.callback?.searchParams.get('error'), 'login_required');
  });
});
