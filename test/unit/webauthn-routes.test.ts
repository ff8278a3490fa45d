import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import { sha256Base64url } from '../../src/core/crypto.ts';
import { AppError, unauthorized } from '../../src/core/errors.ts';
import { installErrorHandling } from '../../src/web/error-handler.ts';
import type { Passkey, Registrant } from '../../src/webauthn/index.ts';
import { webauthnRoutes } from '../../src/webauthn/routes.ts';
import { createWebauthnFixture, type WebauthnFixture } from '../helpers/webauthn-fixture.ts';

describe('passkey routes', () => {
  let fx: WebauthnFixture;
  let app: FastifyInstance;
  let registrant: Registrant | null;
  let registered: Array<{ passkey: Passkey; registrant: Registrant }>;

  beforeEach(async () => {
    fx = await createWebauthnFixture();
    registrant = await fx.addUser('alice');
    registered = [];
    app = Fastify();
    await app.register(cookie);
    installErrorHandling(app);
    await app.register(webauthnRoutes, {
      webauthn: fx.webauthn,
      secureCookies: true,
      async resolveRegistrant() {
        if (!registrant) throw unauthorized();
        return registrant;
      },
      onRegistered(_request, _reply, passkey, who) {
        registered.push({ passkey, registrant: who });
        return { redirectTo: '/account' };
      },
      onLogin(_request, reply, login) {
        reply.header('set-cookie', `session=${login.userId}`);
        return { redirectTo: '/welcome' };
      },
    });
  });
  afterEach(async () => {
    await app.close();
    await fx.close();
  });

  /** A browser: it keeps the cookies the answers set and sends them back, as fetch() from our pages does. */
  function newBrowser() {
    const cookies = new Map<string, string>();
    return {
      cookies,
      async post(url: string, payload?: unknown) {
        const response = await app.inject({ method: 'POST', url, payload: payload as object, cookies: Object.fromEntries(cookies) });
        for (const set of response.cookies) {
          if (set.maxAge === 0 || (set.expires && set.expires.getTime() <= Date.now())) cookies.delete(set.name);
          else cookies.set(set.name, set.value);
        }
        return response;
      },
    };
  }
  let browser: ReturnType<typeof newBrowser>;
  beforeEach(() => { browser = newBrowser(); });
  const post = (url: string, payload: unknown) => browser.post(url, payload);
  const cookieName = (flowId: string) => `__Secure-latchkey_webauthn_${flowId}`;
  const passkeyCount = async () => (await fx.db.selectFrom('passkeys').select('id').execute()).length;

  it('registers a passkey and then signs in with it over HTTP', async () => {
    const authenticator = fx.authenticator();
    const start = await post('/api/webauthn/register/start', {});
    assert.equal(start.statusCode, 200);
    assert.equal(start.headers['cache-control'], 'no-store');
    const { flowId, options } = start.json();
    const finish = await post('/api/webauthn/register/finish', { flowId, response: authenticator.register(options), name: 'Phone' });
    assert.deepEqual(finish.json(), { redirectTo: '/account' });
    assert.equal(registered[0].passkey.name, 'Phone');
    assert.equal(registered[0].registrant.userId, 'alice');

    const loginStart = (await post('/api/webauthn/login/start', {})).json();
    const loginFinish = await post('/api/webauthn/login/finish', { flowId: loginStart.flowId, response: authenticator.login(loginStart.options) });
    assert.equal(loginFinish.statusCode, 200);
    assert.deepEqual(loginFinish.json(), { redirectTo: '/welcome' });
    assert.equal([loginFinish.headers['set-cookie']].flat()[0], 'session=alice');
  });

  it('starts a login from an empty POST, as a plain fetch without a body sends', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/webauthn/login/start' });
    assert.equal(response.statusCode, 200);
    assert.equal(typeof response.json().flowId, 'string');
  });

  it('answers malformed JSON with a 400 JSON error and stores nothing', async () => {
    const start = (await post('/api/webauthn/register/start', {})).json();
    const response = await app.inject({
      method: 'POST', url: '/api/webauthn/register/finish',
      headers: { 'content-type': 'application/json' },
      payload: `{"flowId":"${start.flowId}","response":{"id":`,
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers['content-type']?.split(';')[0], 'application/json');
    assert.equal(response.json().error, 'malformed_body');
    assert.equal(await passkeyCount(), 0);
    assert.equal(registered.length, 0);
  });

  it('answers a body without the credential with a 400 invalid_request', async () => {
    const start = (await post('/api/webauthn/register/start', {})).json();
    const response = await post('/api/webauthn/register/finish', { flowId: start.flowId });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
    assert.equal(await passkeyCount(), 0);
  });

  it('answers a credential of the wrong shape with webauthn_invalid_response', async () => {
    const start = (await post('/api/webauthn/login/start', {})).json();
    const response = await post('/api/webauthn/login/finish', { flowId: start.flowId, response: { id: 'abc' } });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'webauthn_invalid_response');
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const response = await post('/api/webauthn/login/finish', { flowId: 'x', response: { padding: 'a'.repeat(70 * 1024) } });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error, 'body_too_large');
  });

  it('answers a ceremony failure with its code and safe message, never the library text', async () => {
    const authenticator = fx.authenticator();
    const start = (await post('/api/webauthn/register/start', {})).json();
    await post('/api/webauthn/register/finish', { flowId: start.flowId, response: authenticator.register(start.options) });
    const login = (await post('/api/webauthn/login/start', {})).json();
    const response = await post('/api/webauthn/login/finish', { flowId: login.flowId, response: authenticator.login(login.options, { origin: 'https://evil.test' }) });
    assert.equal(response.statusCode, 400);
    const body = response.json();
    assert.equal(body.error, 'webauthn_origin_mismatch');
    assert.doesNotMatch(body.message, /evil\.test|Unexpected/);
  });

  it('refuses to start a registration when nobody may register', async () => {
    registrant = null;
    const response = await post('/api/webauthn/register/start', {});
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error, 'unauthorized');
  });

  it('refuses to finish a registration once the registrant has changed', async () => {
    const start = (await post('/api/webauthn/register/start', {})).json();
    registrant = await fx.addUser('mallory');
    const response = await post('/api/webauthn/register/finish', { flowId: start.flowId, response: fx.authenticator().register(start.options) });
    assert.equal(response.json().error, 'webauthn_flow_mismatch');
    assert.equal(await passkeyCount(), 0);
  });

  it('lets the registrant callback refuse with its own error', async () => {
    registrant = null;
    await app.close();
    app = Fastify();
    await app.register(cookie);
    installErrorHandling(app);
    await app.register(webauthnRoutes, {
      webauthn: fx.webauthn,
      secureCookies: true,
      resolveRegistrant: async () => { throw new AppError('setup_link_expired', 410, 'This setup link has expired.'); },
      onRegistered: () => ({}),
      onLogin: () => ({}),
    });
    const response = await post('/api/webauthn/register/start', {});
    assert.equal(response.statusCode, 410);
    assert.deepEqual([response.json().error, response.json().message], ['setup_link_expired', 'This setup link has expired.']);
  });

  describe('binding each ceremony to the browser that started it', () => {
    /** Alice's passkey, registered in her browser; the browser is ready to sign in. */
    async function enrolled() {
      const authenticator = fx.authenticator();
      const start = (await post('/api/webauthn/register/start', {})).json();
      assert.equal((await post('/api/webauthn/register/finish', { flowId: start.flowId, response: authenticator.register(start.options) })).statusCode, 200);
      return authenticator;
    }
    const setCookies = (response: { headers: Record<string, unknown> }) => [response.headers['set-cookie'] ?? []].flat().map(String);

    it('gives the starting browser an HttpOnly, Secure, SameSite=Strict cookie for /api/webauthn/ only, as long-lived as the challenge, and keeps the secret out of the JSON', async () => {
      for (const url of ['/api/webauthn/login/start', '/api/webauthn/register/start']) {
        const start = await post(url, {});
        const { flowId } = start.json();
        assert.deepEqual(Object.keys(start.json()).sort(), ['flowId', 'options']);
        const [line] = setCookies(start);
        const value = browser.cookies.get(cookieName(flowId));
        assert.match(String(value), /^[\w-]{43}$/, '256 random bits, base64url');
        assert.equal(line, `${cookieName(flowId)}=${value}; Max-Age=300; Path=/api/webauthn/; HttpOnly; Secure; SameSite=Strict`);
        assert.ok(!start.body.includes(String(value)));
      }
    });

    it('keeps only a hash of the browser secret in the flow', async () => {
      const start = await post('/api/webauthn/login/start', {});
      const secret = String(browser.cookies.get(cookieName(start.json().flowId)));
      assert.match(secret, /^[\w-]{43}$/);
      const stored = String(await fx.store.take(`webauthn:flow:${start.json().flowId}`));
      assert.ok(stored.includes(sha256Base64url(secret)) && !stored.includes(secret), stored);
    });

    it('refuses a sign-in finished from another browser with the flow id and a valid assertion, and the flow is spent', async () => {
      const authenticator = await enrolled();
      const start = (await post('/api/webauthn/login/start', {})).json();
      const finish = { flowId: start.flowId, response: authenticator.login(start.options) };
      const attacker = newBrowser();
      const stolen = await attacker.post('/api/webauthn/login/finish', finish);
      assert.equal(stolen.statusCode, 400);
      assert.deepEqual([stolen.json().error, stolen.json().message], ['webauthn_other_browser', 'This passkey request was not started in this browser, or its cookie was removed. Please start again.']);
      assert.ok(!setCookies(stolen).some((line) => line.startsWith('session=')), 'no session for the attacker');
      const late = await post('/api/webauthn/login/finish', finish);
      assert.equal(late.json().error, 'webauthn_challenge_expired');
    });

    it("refuses a finish whose cookie holds another browser's secret, and the flow is spent", async () => {
      const authenticator = await enrolled();
      const start = (await post('/api/webauthn/login/start', {})).json();
      const finish = { flowId: start.flowId, response: authenticator.login(start.options) };
      const attacker = newBrowser();
      const own = (await attacker.post('/api/webauthn/login/start', {})).json();
      attacker.cookies.set(cookieName(start.flowId), String(attacker.cookies.get(cookieName(own.flowId))));
      assert.equal((await attacker.post('/api/webauthn/login/finish', finish)).json().error, 'webauthn_other_browser');
      assert.equal((await post('/api/webauthn/login/finish', finish)).json().error, 'webauthn_challenge_expired');
    });

    it('refuses a registration finished without the cookie, stores no passkey, and the flow is spent', async () => {
      const start = (await post('/api/webauthn/register/start', {})).json();
      const finish = { flowId: start.flowId, response: fx.authenticator().register(start.options) };
      const secret = browser.cookies.get(cookieName(start.flowId));
      browser.cookies.delete(cookieName(start.flowId));
      assert.equal((await post('/api/webauthn/register/finish', finish)).json().error, 'webauthn_other_browser');
      browser.cookies.set(cookieName(start.flowId), String(secret));
      assert.equal((await post('/api/webauthn/register/finish', finish)).json().error, 'webauthn_challenge_expired');
      assert.equal(await passkeyCount(), 0);
    });

    it('signs in with the right cookie, clears it, and refuses the same request replayed with that cookie', async () => {
      const authenticator = await enrolled();
      const start = (await post('/api/webauthn/login/start', {})).json();
      const name = cookieName(start.flowId);
      const secret = String(browser.cookies.get(name));
      const finish = { flowId: start.flowId, response: authenticator.login(start.options) };
      const signedIn = await post('/api/webauthn/login/finish', finish);
      assert.equal(signedIn.statusCode, 200);
      assert.ok(setCookies(signedIn).includes(`${name}=; Max-Age=0; Path=/api/webauthn/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict`), String(setCookies(signedIn)));
      assert.equal(browser.cookies.has(name), false);
      browser.cookies.set(name, secret);
      assert.equal((await post('/api/webauthn/login/finish', finish)).json().error, 'webauthn_challenge_expired');
    });

    it('clears the cookie of a ceremony that failed, as its flow is spent', async () => {
      const authenticator = await enrolled();
      const start = (await post('/api/webauthn/login/start', {})).json();
      assert.equal(browser.cookies.size, 1);
      const failed = await post('/api/webauthn/login/finish', { flowId: start.flowId, response: authenticator.login(start.options, { origin: 'https://evil.test' }) });
      assert.equal(failed.json().error, 'webauthn_origin_mismatch');
      assert.equal(browser.cookies.size, 0);
    });

    it('lets several tabs of one browser run their ceremonies at once, finishing in any order', async () => {
      const authenticator = await enrolled();
      const first = (await post('/api/webauthn/login/start', {})).json();
      const second = (await post('/api/webauthn/login/start', {})).json();
      const adding = (await post('/api/webauthn/register/start', {})).json();
      assert.equal(browser.cookies.size, 3, 'one cookie per ceremony');
      assert.equal((await post('/api/webauthn/login/finish', { flowId: second.flowId, response: authenticator.login(second.options) })).statusCode, 200);
      assert.equal((await post('/api/webauthn/register/finish', { flowId: adding.flowId, response: fx.authenticator().register(adding.options) })).statusCode, 200);
      assert.equal((await post('/api/webauthn/login/finish', { flowId: first.flowId, response: authenticator.login(first.options) })).statusCode, 200);
      assert.equal(await passkeyCount(), 2);
    });

    it('keeps at most 8 ceremony cookies in a browser: the ninth start drops the oldest', async () => {
      const authenticator = await enrolled();
      const starts = [];
      for (let i = 0; i < 9; i++) starts.push((await post('/api/webauthn/login/start', {})).json());
      assert.equal(browser.cookies.size, 8);
      assert.equal(browser.cookies.has(cookieName(starts[0].flowId)), false);
      assert.equal((await post('/api/webauthn/login/finish', { flowId: starts[0].flowId, response: authenticator.login(starts[0].options) })).json().error, 'webauthn_other_browser');
      assert.equal((await post('/api/webauthn/login/finish', { flowId: starts[1].flowId, response: authenticator.login(starts[1].options) })).statusCode, 200);
    });

    it('names the cookie without the __Secure- prefix and leaves out Secure on http://localhost', async () => {
      await app.close();
      app = Fastify();
      await app.register(cookie);
      installErrorHandling(app);
      await app.register(webauthnRoutes, { webauthn: fx.webauthn, secureCookies: false, resolveRegistrant: async () => registrant!, onRegistered: () => ({}), onLogin: () => ({}) });
      const start = await post('/api/webauthn/login/start', {});
      const [line] = setCookies(start);
      assert.match(line, new RegExp(`^latchkey_webauthn_${start.json().flowId}=[\\w-]{43}; Max-Age=300; Path=/api/webauthn/; HttpOnly; SameSite=Strict$`));
    });
  });
});
