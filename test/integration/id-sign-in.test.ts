import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('latchkey id: first admin, passkeys and sign-in over HTTP', () => {
  let id: IdServer;
  let admin: ReturnType<typeof idBrowser>;
  before(async () => {
    id = await startIdServer();
    admin = idBrowser(id.origin);
  });
  after(() => id.close());

  it('answers /healthz with 204 to GET and HEAD', async () => {
    assert.equal((await fetch(`${id.origin}/healthz`)).status, 204);
    assert.equal((await fetch(`${id.origin}/healthz`, { method: 'HEAD' })).status, 204);
  });

  it('refuses the setup page without a valid setup link', async () => {
    const { response, html } = await admin.page('/setup?token=guessed');
    assert.equal(response.status, 400);
    assert.match(html, /setup link has expired or is not valid/);
  });

  it('creates the first admin from the setup link, who then registers a passkey', async () => {
    const { token } = await id.services.identity.setup.issueLink();
    const { response } = await admin.page(`/setup?token=${token}`);
    assert.equal(response.status, 200);
    const created = await admin.form('/setup', { token, username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: '' });
    assert.equal(created.status, 303);
    assert.equal(created.headers.get('location'), '/account?welcome=1');
    await admin.page('/account?welcome=1');
    const registered = await admin.registerPasskey('Laptop');
    assert.equal(registered.response.status, 200, JSON.stringify(registered.body));
    const account = await admin.page('/account');
    assert.match(account.html, /Laptop/);
    assert.match(account.html, /only one passkey/);
  });

  it('closes setup for good once the admin exists', async () => {
    await assert.rejects(id.services.identity.setup.issueLink(), { code: 'setup_closed' });
    const { response } = await idBrowser(id.origin).page('/setup?token=anything');
    assert.equal(response.status, 410);
  });

  it('signs out, refuses the account page, and signs in again with the passkey', async () => {
    await admin.page('/account');
    const out = await admin.form('/logout', {});
    assert.equal(out.status, 303);
    const refused = await admin.page('/account');
    assert.equal(refused.response.status, 302);
    assert.match(refused.response.headers.get('location') ?? '', /^\/login/);
    await admin.page('/login?next=/account');
    const signedIn = await admin.signInWithPasskey();
    assert.equal(signedIn.response.status, 200, JSON.stringify(signedIn.body));
    assert.equal(signedIn.body.redirectTo, '/account');
    assert.equal((await admin.page('/account')).response.status, 200);
  });

  it('does not let another browser finish a sign-in with the flow id and the signed assertion it captured', async () => {
    await admin.form('/logout', {});
    await admin.page('/login');
    const start = await admin.json('/api/webauthn/login/start', {});
    const finish = { flowId: start.body.flowId, response: admin.authenticator.login(start.body.options as never) };
    // What an extension or a logging proxy could copy; the attacker has a sign-in page (and CSRF token) of their own.
    const attacker = idBrowser(id.origin);
    await attacker.page('/login');
    const stolen = await attacker.json('/api/webauthn/login/finish', finish);
    assert.equal(stolen.response.status, 400);
    assert.equal(stolen.body.error, 'webauthn_other_browser');
    assert.equal((await attacker.page('/account')).response.status, 302, 'the attacker has no session');
    // The flow is spent: the person starts again, and that works.
    assert.equal((await admin.json('/api/webauthn/login/finish', finish)).body.error, 'webauthn_challenge_expired');
    assert.equal((await admin.signInWithPasskey()).response.status, 200);
  });

  it('refuses a form post that comes from another site, and changes nothing', async () => {
    const before = await id.services.database.db.selectFrom('web_sessions').select('id_hash').execute();
    const response = await admin.jar.fetch(`${id.origin}/logout`, {
      method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: new URLSearchParams({ csrf: admin.csrf }),
    });
    assert.equal(response.status, 403);
    const after = await id.services.database.db.selectFrom('web_sessions').select('id_hash').execute();
    assert.deepEqual(after, before);
  });

  it('refuses a passkey ceremony without the CSRF token', async () => {
    const response = await fetch(`${id.origin}/api/webauthn/login/start`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: id.origin, 'sec-fetch-site': 'same-origin' }, body: '{}',
    });
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { error: string }).error, 'cross_site_request');
  });

  it('refuses a passkey ceremony from another site however its path is spelled', async () => {
    // The router decodes %61 and %77 to the same routes; the CSRF check must not read the raw URL.
    for (const path of ['/api/webauthn/login/start', '/%61pi/webauthn/login/start', '/api/%77ebauthn/register/start']) {
      const response = await admin.jar.fetch(`${id.origin}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: '',
      });
      assert.equal(response.status, 403, path);
    }
  });

  it('sends a disabled user nowhere: their passkey no longer signs in', async () => {
    const users = id.services.identity.users;
    const bob = await users.create({ username: 'bob' });
    const { token } = await id.services.identity.links.issue('signin', bob.id, 600);
    const browser = idBrowser(id.origin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    await browser.page('/account');
    assert.equal((await browser.registerPasskey()).response.status, 200);
    await users.update(bob.id, { disabled: true });
    assert.equal((await browser.page('/account')).response.status, 302);
    await browser.page('/login');
    const attempt = await browser.signInWithPasskey();
    assert.equal(attempt.response.status, 403);
    assert.equal(attempt.body.error, 'webauthn_account_disabled');
  });
});

describe('latchkey id: one-time sign-in links', () => {
  let id: IdServer;
  before(async () => { id = await startIdServer(); });
  after(() => id.close());

  it('shows a page on GET and uses the link only on POST, exactly once', async () => {
    const carol = await id.services.identity.users.create({ username: 'carol' });
    const { token } = await id.services.identity.links.issue('signin', carol.id, 600);
    const scanner = idBrowser(id.origin);
    // A link preview or mail scanner fetches the link: it must not use it up.
    assert.equal((await scanner.page(`/lc/${token}`)).response.status, 200);
    const browser = idBrowser(id.origin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    const again = idBrowser(id.origin);
    const { response } = await again.page(`/lc/${token}`);
    assert.equal(response.status, 400);
    await again.page('/login');
    const reuse = await again.form('/link', { token });
    assert.equal(reuse.status, 400);
  });
});
