// What an authorization request can make latchkey id keep. Anyone can send one (the client_id and
// its redirect_uri are in every sign-in redirect), and each that needs a sign-in made oidc-provider
// store all its parameters for 30 minutes: an audit filled gigabytes from one client. Requests are
// bounded in size (oidc/authorization-size.ts) and counted per address
// (oidc/authorization-rate-limit.ts) before the provider sees them, as pushed authorization requests are.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE } from '../../src/oidc/authorization-rate-limit.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REDIRECT_URI = 'https://app.example.com/oauth2/callback';

const authorizeQuery = (extra: Record<string, string> = {}) => new URLSearchParams({
  client_id: 'app', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid email',
  state: 's'.repeat(32), nonce: 'n'.repeat(43), code_challenge: 'c'.repeat(43), code_challenge_method: 'S256', ...extra,
});

async function startWithClients(env: Record<string, string>, options: Parameters<typeof startIdServer>[1] = {}): Promise<IdServer> {
  const id = await startIdServer(env, options);
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

/** An authorization request as a browser sends it, from `ip` when the server trusts X-Forwarded-For. */
const authorize = (id: IdServer, query: URLSearchParams | string, init: { ip?: string; method?: string; path?: string } = {}) =>
  fetch(`${id.origin}${init.path ?? '/authorize'}?${query}`, {
    method: init.method ?? 'GET', redirect: 'manual',
    headers: { accept: 'text/html', ...(init.ip ? { 'x-forwarded-for': init.ip } : {}) },
  });

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

describe('latchkey id limits authorization requests per address', () => {
  const clock = manualClock(Date.now());
  let id: IdServer;
  // TRUST_PROXY: the tests choose the client's address with X-Forwarded-For.
  before(async () => { id = await startWithClients({ TRUST_PROXY: 'true' }, { clock }); });
  after(() => id?.close());

  /** `count` requests from `ip`, each answered as before the limit: on to the sign-in. */
  async function sendAllowed(ip: string, count: number, extra: Record<string, string> = {}) {
    for (let i = 0; i < count; i++) {
      const response = await authorize(id, authorizeQuery(extra), { ip });
      await response.body?.cancel();
      assert.equal(response.status, 303, `request ${i + 1} from ${ip}`);
    }
  }

  it('refuses the 61st request in a minute from one address with a 429 page and Retry-After, and stores no Interaction for it', async () => {
    await sendAllowed('198.51.100.1', 60);
    const before = await storedRows(id, 'Interaction');
    const refused = await authorize(id, authorizeQuery(), { ip: '198.51.100.1' });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    assert.equal(refused.headers.get('location'), null);
    assert.match(refused.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await refused.text(), /Too many sign-in requests/);
    assert.equal(await storedRows(id, 'Interaction'), before);
  });

  it('counts another address, and another IPv6 /64, apart; the addresses of one /64 together', async () => {
    await sendAllowed('198.51.100.2', 60);
    assert.equal((await authorize(id, authorizeQuery(), { ip: '198.51.100.2' })).status, 429);
    await sendAllowed('198.51.100.3', 1);
    // a host given a /64 may send each request from a fresh address in it
    for (let i = 0; i < 60; i++) await sendAllowed(`2001:db8:1:2::${(i + 1).toString(16)}`, 1);
    assert.equal((await authorize(id, authorizeQuery(), { ip: '2001:db8:1:2:abcd::1' })).status, 429);
    await sendAllowed('2001:db8:1:3::1', 1);
  });

  it('counts the /64s of one IPv6 /48 together as well: 240 a minute, four times the limit, then a 429 page for the whole /48 and no Interaction', async () => {
    // one host with a /48 routed to it, sending each request from a fresh /64
    for (let i = 0; i < 240; i++) await sendAllowed(`2001:db8:aa:${(i + 1).toString(16)}::1`, 1);
    const before = await storedRows(id, 'Interaction');
    const refused = await authorize(id, authorizeQuery(), { ip: '2001:db8:aa:ffff::1' });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    assert.match(await refused.text(), /Too many sign-in requests/);
    assert.equal(await storedRows(id, 'Interaction'), before);
    await sendAllowed('2001:db8:ab:1::1', 1);
  });

  it('counts a request the provider answers without a sign-in (prompt=none) too', async () => {
    const first = await authorize(id, authorizeQuery({ prompt: 'none' }), { ip: '198.51.100.4' });
    assert.match(first.headers.get('location') ?? '', /error=login_required/);
    for (let i = 1; i < 60; i++) await (await authorize(id, authorizeQuery({ prompt: 'none' }), { ip: '198.51.100.4' })).body?.cancel();
    assert.equal((await authorize(id, authorizeQuery(), { ip: '198.51.100.4' })).status, 429);
  });

  it('lets the address start a sign-in again once its minute has passed', async () => {
    await sendAllowed('198.51.100.5', 60);
    assert.equal((await authorize(id, authorizeQuery(), { ip: '198.51.100.5' })).status, 429);
    clock.advanceMs(59_000);
    assert.equal((await authorize(id, authorizeQuery(), { ip: '198.51.100.5' })).status, 429);
    clock.advanceMs(1_000);
    await sendAllowed('198.51.100.5', 1);
  });

  it('leaves the resume step (/authorize/:uid) and the other endpoints uncounted', async () => {
    await sendAllowed('198.51.100.6', 60);
    const discovery = await fetch(`${id.origin}/.well-known/openid-configuration`, { headers: { 'x-forwarded-for': '198.51.100.6' } });
    assert.equal(discovery.status, 200);
    const resume = await fetch(`${id.origin}/authorize/unknown-uid`, { redirect: 'manual', headers: { accept: 'text/html', 'x-forwarded-for': '198.51.100.6' } });
    assert.notEqual(resume.status, 429);
  });
});

// A public client authenticates with its client_id alone, so anyone may push requests for it, and
// each push kept a PushedAuthorizationRequest row with no per-address limit. Found in review.
describe('latchkey id limits pushed authorization requests per address', () => {
  const lines: Record<string, unknown>[] = [];
  let id: IdServer;
  // TRUST_PROXY: the tests choose the client's address with X-Forwarded-For.
  before(async () => { id = await startWithClients({ TRUST_PROXY: 'true' }, { logDestination: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } }); });
  after(() => id?.close());

  const push = (ip: string, extra: Record<string, string> = {}) => fetch(`${id.origin}/api/oidc/par`, {
    method: 'POST', body: authorizeQuery({ client_id: 'spa', ...extra }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
  });
  async function sendAllowed(ip: string, count: number) {
    for (let i = 0; i < count; i++) {
      const response = await push(ip);
      await response.body?.cancel();
      assert.equal(response.status, 201, `push ${i + 1} from ${ip}`);
    }
  }

  it(`refuses push ${PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE + 1} in a minute from one address with a JSON 429 and Retry-After, and stores nothing for it`, async () => {
    await sendAllowed('198.51.100.11', PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE);
    const before = await storedRows(id);
    const refused = await push('198.51.100.11');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    assert.match(refused.headers.get('content-type') ?? '', /application\/json/);
    assert.equal((await refused.json() as { error: string }).error, 'temporarily_unavailable');
    assert.equal(await storedRows(id), before);
  });

  it('counts another address apart, whose pushed request then signs in as before', async () => {
    const response = await push('198.51.100.12');
    assert.equal(response.status, 201);
    const { request_uri } = await response.json() as { request_uri: string };
    const authorization = await authorize(id, new URLSearchParams({ client_id: 'spa', request_uri }), { ip: '198.51.100.12' });
    assert.equal(authorization.status, 303);
    assert.match(authorization.headers.get('location') ?? '', /\/interaction\//);
  });

  it('logs the address passing the limit once a window, not every refusal', async () => {
    await sendAllowed('198.51.100.13', PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE);
    for (let i = 0; i < 3; i++) assert.equal((await push('198.51.100.13')).status, 429);
    const passed = lines.filter((line) => line.event === 'par_rate_limited' && line.address === '198.51.100.13');
    assert.equal(passed.length, 1);
    assert.equal(passed[0].level, 40);
  });

  it('leaves authorization requests from that address to their own count', async () => {
    await sendAllowed('198.51.100.14', PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE);
    assert.equal((await push('198.51.100.14')).status, 429);
    assert.equal((await authorize(id, authorizeQuery(), { ip: '198.51.100.14' })).status, 303);
  });
});

describe('AUTHORIZE_REQUESTS_PER_MINUTE', () => {
  it('sets the limit, and 0 turns it off, with the pushed requests\' limit', async () => {
    const three = await startWithClients({ AUTHORIZE_REQUESTS_PER_MINUTE: '3' });
    const off = await startWithClients({ AUTHORIZE_REQUESTS_PER_MINUTE: '0' });
    try {
      const statuses = async (server: IdServer, count: number) => {
        const out = [];
        for (let i = 0; i < count; i++) out.push((await authorize(server, authorizeQuery())).status);
        return out;
      };
      assert.deepEqual(await statuses(three, 4), [303, 303, 303, 429]);
      assert.deepEqual(new Set(await statuses(off, 61)), new Set([303]));
      // 0 turns the pushed requests' own limit off too (a deployment that limits at its edge)
      const pushes = [];
      for (let i = 0; i <= PUSHED_AUTHORIZATION_REQUESTS_PER_MINUTE; i++) {
        pushes.push((await fetch(`${off.origin}/api/oidc/par`, { method: 'POST', body: authorizeQuery({ client_id: 'spa' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status);
      }
      assert.deepEqual(new Set(pushes), new Set([201]));
    } finally {
      await three.close();
      await off.close();
    }
  });
});

// Behind a reverse proxy that TRUST_PROXY does not name, every visitor arrives from the proxy's
// address: the limit then counts them all as one, and refuses everyone at once.
describe('the limit behind a reverse proxy', () => {
  const logOf = () => {
    const lines: Record<string, unknown>[] = [];
    return { lines, destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } };
  };
  const mentionsTrustProxy = (lines: Record<string, unknown>[]) => lines.filter((line) => /TRUST_PROXY is not set/.test(String(line.msg)));

  it('warns once, naming TRUST_PROXY, when a loopback peer passes the limit while TRUST_PROXY is not set', async () => {
    const log = logOf();
    const id = await startWithClients({}, { logDestination: log.destination });
    try {
      for (let i = 0; i < 60; i++) await (await authorize(id, authorizeQuery())).body?.cancel();
      assert.equal(mentionsTrustProxy(log.lines).length, 0, 'not before the limit is reached');
      for (let i = 0; i < 3; i++) assert.equal((await authorize(id, authorizeQuery())).status, 429);
      const warnings = mentionsTrustProxy(log.lines);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].level, 40);
      assert.match(String(warnings[0].msg), /127\.0\.0\.1/);
    } finally {
      await id.close();
    }
  });

  it('does not warn about TRUST_PROXY when it is set', async () => {
    const log = logOf();
    const id = await startWithClients({ TRUST_PROXY: '127.0.0.1' }, { logDestination: log.destination });
    try {
      for (let i = 0; i < 61; i++) await (await authorize(id, authorizeQuery(), { ip: '203.0.113.9' })).body?.cancel();
      assert.equal((await authorize(id, authorizeQuery(), { ip: '203.0.113.9' })).status, 429);
      assert.equal(mentionsTrustProxy(log.lines).length, 0);
      assert.equal(log.lines.filter((line) => line.event === 'authorize_rate_limited').length, 1, 'the address passing the limit is logged once');
    } finally {
      await id.close();
    }
  });
});
