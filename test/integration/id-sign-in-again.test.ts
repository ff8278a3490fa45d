// A browser that is signed in and signs in again (the sign-in page an app's prompt=login sends it
// to, a one-time link, a recovery code) gets a new session cookie. Found in review: the session the
// old cookie named was never ended, so that cookie value went on working until it expired, for
// whoever held it (a value that had leaked, the previous person at a shared computer). Now the
// sign-in ends it (identity/routes.ts signIn); another user's apps in that browser are told too.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { APP_REDIRECT_URI, openLink, signInToApp, startLogoutReceiver, type LogoutReceiver, type SignedInBrowser } from '../helpers/account-fixture.ts';
import { authorizeWithPasskey, enrollUser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

describe('signing in again in a browser that is already signed in', () => {
  let id: IdServer;
  let receiver: LogoutReceiver;

  before(async () => {
    id = await startIdServer();
    receiver = await startLogoutReceiver();
    await id.services.clients.create({ id: 'wiki', name: 'Family wiki', redirectUris: [APP_REDIRECT_URI], unrestricted: true, backchannelLogoutUri: receiver.uri });
  });
  after(async () => {
    await receiver?.close();
    await id?.close();
  });

  /** The browser's latchkey session cookie value. */
  const sessionCookieOf = (browser: SignedInBrowser): string => {
    const value = /(?:^|; )latchkey_session=([^;]+)/.exec(browser.jar.cookieHeader(new URL(id.origin)))?.[1];
    assert.ok(value, 'the browser has a session cookie');
    return value;
  };

  /** Whom a request carrying only this session cookie value is signed in as, over HTTP and in the database. */
  async function signedInWith(token: string): Promise<string | null> {
    const response = await fetch(`${id.origin}/account`, { headers: { cookie: `latchkey_session=${token}` }, redirect: 'manual' });
    await response.body?.cancel();
    const session = await id.services.identity.sessions.resolve(token);
    assert.equal(response.status, session ? 200 : 302, 'the page and the database agree');
    if (!session) assert.match(response.headers.get('location') ?? '', /^\/login/);
    return session?.userId ?? null;
  }

  const auditOf = (userId: string, event: string) => id.services.identity.audit.list({ userId, event });

  /** A user with a passkey, signed in with it in their own browser. */
  async function signedInWithPasskey(username: string) {
    const enrolled = await enrollUser(id, { username });
    await enrolled.browser.page('/login');
    assert.equal((await enrolled.browser.signInWithPasskey()).response.status, 200);
    return enrolled;
  }

  /** The sign-in page's passkey button, pressed in `browser` with the passkey `holder` holds. */
  async function signInWithPasskeyOf(browser: SignedInBrowser, holder: SignedInBrowser) {
    await browser.page('/login?again=1');
    const start = await browser.json('/api/webauthn/login/start', {});
    const response = holder.authenticator.login(start.body.options as never);
    const finish = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response });
    assert.equal(finish.response.status, 200, JSON.stringify(finish.body));
  }

  const logoutTokenSubjects = (from: number) => receiver.tokens.slice(from)
    .map((token) => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string }).sub);

  it('ends the previous session when the same user signs in again with their passkey, and leaves their apps signed in', async () => {
    const alice = await signedInWithPasskey('alice');
    await signInToApp(id, alice.browser, 'wiki');
    const old = sessionCookieOf(alice.browser);
    const told = receiver.tokens.length;
    const signOuts = (await auditOf(alice.user.id, 'signout')).length; // the one after enrolling

    await signInWithPasskeyOf(alice.browser, alice.browser);
    const fresh = sessionCookieOf(alice.browser);
    assert.notEqual(fresh, old);
    assert.equal(await signedInWith(old), null, 'the old cookie value is signed out');
    assert.equal(await signedInWith(fresh), alice.user.id);
    assert.equal(receiver.tokens.length, told, 'the app was not told to sign alice out');
    assert.equal((await auditOf(alice.user.id, 'signout')).length, signOuts, 'nobody signed out');
    assert.deepEqual(await auditOf(alice.user.id, 'oidc_logout_session'), []);
    await signInToApp(id, alice.browser, 'wiki');
  });

  it('ends the previous user\'s session when another user signs in with their passkey, and signs them out of their apps there', async () => {
    const bob = await signedInWithPasskey('bob');
    const carol = await enrollUser(id, { username: 'carol' });
    await signInToApp(id, bob.browser, 'wiki');
    const old = sessionCookieOf(bob.browser);
    const told = receiver.tokens.length;
    const carolSignIns = (await auditOf(carol.user.id, 'signin')).length;

    await signInWithPasskeyOf(bob.browser, carol.browser);
    const fresh = sessionCookieOf(bob.browser);
    assert.equal(await signedInWith(old), null, 'bob\'s cookie value is signed out');
    assert.equal(await signedInWith(fresh), carol.user.id);
    assert.deepEqual(logoutTokenSubjects(told), [bob.user.id], 'the app bob used in this browser was told to sign him out');
    const [signout] = await auditOf(bob.user.id, 'signout'); // newest first
    assert.deepEqual(signout?.details, { reason: 'another_user_signed_in' });
    assert.equal((await auditOf(carol.user.id, 'signin')).length, carolSignIns + 1);
    await signInToApp(id, bob.browser, 'wiki');
  });

  it('ends the previous session when the same user opens a one-time link', async () => {
    const dave = await id.services.identity.users.create({ username: 'dave' });
    const browser = await openLink(id, dave.id);
    const old = sessionCookieOf(browser);
    const { token } = await id.services.identity.links.issue('signin', dave.id, 600);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    const fresh = sessionCookieOf(browser);
    assert.notEqual(fresh, old);
    assert.equal(await signedInWith(old), null);
    assert.equal(await signedInWith(fresh), dave.id);
    assert.deepEqual(await auditOf(dave.id, 'signout'), []);
  });

  it('ends the previous user\'s session when another user opens a one-time link, and signs them out of their apps there', async () => {
    const erin = await id.services.identity.users.create({ username: 'erin' });
    const frank = await id.services.identity.users.create({ username: 'frank' });
    const browser = await openLink(id, erin.id);
    await signInToApp(id, browser, 'wiki');
    const old = sessionCookieOf(browser);
    const told = receiver.tokens.length;
    const { token } = await id.services.identity.links.issue('signin', frank.id, 600);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    assert.equal(await signedInWith(old), null, 'erin\'s cookie value is signed out');
    assert.equal(await signedInWith(sessionCookieOf(browser)), frank.id);
    assert.deepEqual(logoutTokenSubjects(told), [erin.id]);
    assert.equal((await auditOf(erin.id, 'signout')).length, 1);
  });

  it('ends the previous user\'s session when another user signs in with a recovery code', async () => {
    const gina = await id.services.identity.users.create({ username: 'gina' });
    const hugo = await id.services.identity.users.create({ username: 'hugo' });
    const [code] = await id.services.identity.recoveryCodes.generate(hugo.id);
    const browser = await openLink(id, gina.id);
    const old = sessionCookieOf(browser);
    assert.equal((await browser.form('/login/recovery', { login: 'hugo', code })).status, 303);
    assert.equal(await signedInWith(old), null);
    assert.equal(await signedInWith(sessionCookieOf(browser)), hugo.id);
  });

  it('gives an app that asked for a fresh sign-in (prompt=login) a code for the other user whose passkey answered', async () => {
    const ivan = await signedInWithPasskey('ivan');
    const judy = await enrollUser(id, { username: 'judy' });
    await signInToApp(id, ivan.browser, 'wiki');
    const old = sessionCookieOf(ivan.browser);
    // A sign-in made in the second the request starts counts as the fresh one it asks for (oidc/interactions.ts).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // judy's passkey, pressed in ivan's browser on the sign-in page the app's request leads to
    Object.assign(ivan.browser.authenticator, judy.browser.authenticator);
    const url = new URL('/authorize', id.origin);
    url.search = new URLSearchParams({
      client_id: 'wiki', response_type: 'code', scope: 'openid', redirect_uri: APP_REDIRECT_URI, state: 'st', prompt: 'login',
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const outcome = await authorizeWithPasskey(ivan.browser, id, url.href, APP_REDIRECT_URI);
    assert.ok(outcome.signedInWithPasskey);
    assert.ok(outcome.callback?.searchParams.get("code"), `stopped with ${outcome.finalStatus}: ${JSON.stringify(outcome.hops)} ${outcome.finalBody.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").slice(0, 600)}`);
    assert.equal(await signedInWith(old), null);
    const grants = await id.services.database.db.selectFrom('oidc_payloads').select('account_id').where('model', '=', 'Grant').execute();
    assert.ok(grants.some((grant) => grant.account_id === judy.user.id), 'the app\'s grant is judy\'s');
  });
});
