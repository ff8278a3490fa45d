// One browser, two people: Alice used an app, then Bob opens his one-time link in the same browser
// and uses the app too. The provider still holds Alice's session, so it ends it first (the
// end-session form) and then carries on with Bob's authorization. Found in review: that carrying on
// failed with "This sign-in expired", because ending Alice's grant also deleted the pending
// interaction, which carried the grant's id (src/oidc/adapter.ts, revokeByGrantId).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseForm } from '../helpers/browser-jar.ts';
import { authorizeWithPasskey, enrollUser } from '../helpers/id-passkey-flow.ts';
import { type IdServer, startIdServer } from '../helpers/id-server.ts';

const REDIRECT = 'http://localhost:9/cb';

describe('switching people in one browser', () => {
  let id: IdServer;
  before(async () => {
    id = await startIdServer();
    await id.services.clients.create({ id: 'open', name: 'Open', redirectUris: [REDIRECT], unrestricted: true });
  });
  after(() => id.close());

  const authorizationUrl = () => {
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    return `${id.origin}/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'open', scope: 'openid', redirect_uri: REDIRECT, state: 'st', code_challenge: challenge, code_challenge_method: 'S256' })}`;
  };

  it('gives the second person a code for the app after ending the first one\'s session', async () => {
    const alice = await enrollUser(id, { username: 'alice' });
    const bob = await enrollUser(id, { username: 'bob' });
    const browser = alice.browser;
    const first = await authorizeWithPasskey(browser, id, authorizationUrl(), REDIRECT);
    assert.ok(first.callback?.searchParams.get('code'), 'alice gets a code');

    const { token } = await id.services.identity.links.issue('signin', bob.user.id, 600);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    const second = await authorizeWithPasskey(browser, id, authorizationUrl(), REDIRECT);
    let callback = second.callback;
    if (!callback) {
      // the provider's own form that ends Alice's session before going on
      const form = parseForm(second.finalBody, id.origin);
      const posted = await browser.jar.fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields), headers: { origin: id.origin } });
      const rest = await browser.jar.follow(new URL(posted.headers.get('location')!, id.origin).href, (next) => !next.href.startsWith(REDIRECT));
      const location = rest.response.headers.get('location');
      assert.ok(location?.startsWith(REDIRECT), `stopped with ${rest.response.status} at ${rest.url}: ${(await rest.response.text()).slice(0, 200)}`);
      callback = new URL(location!);
    }
    assert.ok(callback.searchParams.get('code'), `bob gets a code, not ${callback.search}`);
    const grants = await id.services.database.db.selectFrom('oidc_payloads').select('account_id').where('model', '=', 'Grant').execute();
    assert.ok(grants.some((grant) => grant.account_id === bob.user.id), 'the code is bob\'s');
  });
});
