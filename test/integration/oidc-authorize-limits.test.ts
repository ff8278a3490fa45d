// What an authorization request can make latchkey id keep. Anyone can send one (the client_id and
// its redirect_uri are in every sign-in redirect), and each that needs a sign-in made oidc-provider
// store all its parameters for 30 minutes: an audit filled gigabytes from one client. Requests are
// bounded in size (oidc/authorization-size.ts) before the provider sees them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REDIRECT_URI = 'https://app.example.com/oauth2/callback';

const authorizeQuery = (extra: Record<string, string> = {}) => new URLSearchParams({
  client_id: 'app', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid email',
  state: 's'.repeat(32), nonce: 'n'.repeat(43), code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', ...extra,
});

async function startWithClients(env: Record<string, string>): Promise<IdServer> {
  const id = await startIdServer(env);
  await id.services.clients.create({ id: 'app', name: 'App', redirectUris: [REDIRECT_URI], unrestricted: true });
  await id.services.clients.create({ id: 'spa', name: 'SPA', redirectUris: [REDIRECT_URI], unrestricted: true, isPublic: true });
  return id;
}

/** Rows oidc-provider keeps (Interaction, PushedAuthorizationRequest, Session …). */
async function storedRows(id: IdServer, model?: string): Promise<number> {
  let query = id.services.database.db.selectFrom('oidc_payloads').select((eb) => eb.fn.countAll<number>().as('n'));
  if (model) query = query.where('model', '=', model);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** An authorization request as a browser sends it. */
const authorize = (id: IdServer, query: URLSearchParams | string, init: { method?: string; path?: string } = {}) =>
  fetch(`${id.origin}${init.path ?? '/authorize'}?${query}`, { method: init.method ?? 'GET', redirect: 'manual', headers: { accept: 'text/html' } });

describe('latchkey id bounds the size of an authorization request', () => {
  let id: IdServer;
  before(async () => { id = await startWithClients({}); });
  after(() => id?.close());

  async function assertRefusedNaming(response: Response, words: RegExp) {
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null, 'a page, not a redirect to the client');
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const page = await response.text();
    assert.match(page, /Sign-in request too long/);
    assert.match(page, words);
  }

  it('refuses a state longer than 2,048 characters with a 400 page naming it, and stores nothing', async () => {
    const before = await storedRows(id);
    await assertRefusedNaming(await authorize(id, authorizeQuery({ state: 's'.repeat(2049) })), /parameter &quot;state&quot; of 2,049 characters[^<]*at most 2,048/);
    assert.equal(await storedRows(id), before);
  });

  it('refuses a nonce longer than 512 characters with a 400 page naming it, and stores nothing', async () => {
    const before = await storedRows(id);
    await assertRefusedNaming(await authorize(id, authorizeQuery({ nonce: 'n'.repeat(513) })), /parameter &quot;nonce&quot; of 513 characters[^<]*at most 512/);
    assert.equal(await storedRows(id), before);
  });

  it('refuses a query longer than 8 KiB even when each parameter is within its bound, and stores nothing', async () => {
    const before = await storedRows(id);
    const padding = Object.fromEntries(['a', 'b', 'c', 'd'].map((name) => [`x_${name}`, 'p'.repeat(2000)]));
    await assertRefusedNaming(await authorize(id, authorizeQuery(padding)), /request is 8,[0-9]{3} bytes long[^<]*at most 8,192/);
    assert.equal(await storedRows(id), before);
  });

  it('checks the same request sent with HEAD, or to /authorize/, which the provider serves alike', async () => {
    const before = await storedRows(id);
    const head = await authorize(id, authorizeQuery({ state: 's'.repeat(2049) }), { method: 'HEAD' });
    assert.equal(head.status, 400);
    await assertRefusedNaming(await authorize(id, authorizeQuery({ state: 's'.repeat(2049) }), { path: '/authorize/' }), /state/);
    assert.equal(await storedRows(id), before);
  });

  // oauth2-proxy's state is "<43-character hash>:<return URL>" (its oauthproxy.go encodeState).
  it('accepts the state oauth2-proxy sends for a 2,004-character return URL', async () => {
    const returnUrl = `https://agents.example.com/private/${'a'.repeat(2004 - 'https://agents.example.com/private/'.length)}`;
    const state = `${'h'.repeat(43)}:${returnUrl}`;
    assert.equal(state.length, 2048);
    const before = await storedRows(id, 'Interaction');
    const response = await authorize(id, authorizeQuery({ state }));
    assert.equal(response.status, 303);
    assert.match(response.headers.get('location') ?? '', /\/interaction\//);
    assert.equal(await storedRows(id, 'Interaction'), before + 1);
  });

  // enableHttpPostMethods is off in oidc-provider: a POST to the authorization endpoint is not
  // served, so its body has no bound of ours (authorization-size.ts). Should it be enabled, this fails.
  it('does not serve POST /authorize, so its body cannot make the provider store anything', async () => {
    const before = await storedRows(id);
    const response = await fetch(`${id.origin}/authorize`, { method: 'POST', body: authorizeQuery({ state: 's'.repeat(2049) }), redirect: 'manual' });
    assert.equal(response.status, 404);
    assert.equal(await storedRows(id), before);
  });

  describe('a pushed authorization request (RFC 9126), whose parameters the Interaction keeps', () => {
    const push = (body: URLSearchParams | ReadableStream) => fetch(`${id.origin}/api/oidc/par`, {
      method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);

    it('is refused in JSON when its body is longer than 8 KiB, and stores nothing', async () => {
      const before = await storedRows(id);
      const response = await push(authorizeQuery({ client_id: 'spa', state: 's'.repeat(8200) }));
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: 'invalid_request', error_description: 'the request body is longer than 8192 bytes' });
      assert.equal(await storedRows(id), before);
    });

    it('is refused without a Content-Length (a chunked body cannot be judged before it is read)', async () => {
      const body = new TextEncoder().encode(authorizeQuery({ client_id: 'spa' }).toString());
      const response = await push(new ReadableStream({ start(controller) { controller.enqueue(body); controller.close(); } }));
      assert.equal(response.status, 411);
    });

    it('is accepted as before when it is within the bound', async () => {
      const response = await push(authorizeQuery({ client_id: 'spa' }));
      assert.equal(response.status, 201);
      assert.match((await response.json() as { request_uri: string }).request_uri, /^urn:ietf:params:oauth:request_uri:/);
    });
  });
});
