import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
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
    installErrorHandling(app);
    await app.register(webauthnRoutes, {
      webauthn: fx.webauthn,
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

  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
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
    assert.equal(loginFinish.headers['set-cookie'], 'session=alice');
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
    installErrorHandling(app);
    await app.register(webauthnRoutes, {
      webauthn: fx.webauthn,
      resolveRegistrant: async () => { throw new AppError('setup_link_expired', 410, 'This setup link has expired.'); },
      onRegistered: () => ({}),
      onLogin: () => ({}),
    });
    const response = await post('/api/webauthn/register/start', {});
    assert.equal(response.statusCode, 410);
    assert.deepEqual([response.json().error, response.json().message], ['setup_link_expired', 'This setup link has expired.']);
  });
});
