// The audit trail of a real `latchkey id`: who signed in and which app got tokens, when, from
// which address and browser. The address comes through TRUST_PROXY only: a forged
// X-Forwarded-For from a peer we were not told to trust is ignored. A forged Host or
// X-Forwarded-Host never changes the issuer or a URL, even with TRUST_PROXY on.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { parseForm } from '../helpers/browser-jar.ts';
import { enrollUser, type IdBrowser } from '../helpers/id-passkey-flow.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const SPOOFED_IP = '203.0.113.9';
// What nginx's $proxy_add_x_forwarded_for makes of a visitor's own X-Forwarded-For: their claim
// first, then the address nginx saw (SPOOFED_IP plays the visitor's real address here).
const FORWARDED_FOR = `198.51.100.66, ${SPOOFED_IP}`;
const REDIRECT_URI = 'http://localhost:9/callback';
const BROWSER_UA = 'AuditTestBrowser/1.0';
const CLIENT_UA = 'AuditTestClient/2.0';

/** Passkey sign-in, authorization and code exchange, each request claiming to come via a proxy for SPOOFED_IP. */
async function signInAndGetTokens(id: IdServer, browser: IdBrowser, client: { id: string; secret: string }) {
  const via = { 'x-forwarded-for': FORWARDED_FOR, 'user-agent': BROWSER_UA };
  const page = await browser.jar.fetch(`${id.origin}/login`, { headers: via });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())![1];
  const post = async (path: string, body: unknown) => {
    const response = await browser.jar.fetch(`${id.origin}${path}`, {
      method: 'POST', body: JSON.stringify(body),
      headers: { ...via, 'content-type': 'application/json', accept: 'application/json', origin: id.origin, 'sec-fetch-site': 'same-origin', 'x-csrf-token': csrf },
    });
    assert.equal(response.status, 200, path);
    return (await response.json()) as { flowId: string; options: never };
  };
  const start = await post('/api/webauthn/login/start', {});
  await post('/api/webauthn/login/finish', { flowId: start.flowId, response: await browser.authenticator.login(start.options) });

  const verifier = randomBytes(32).toString('base64url');
  let url = `${id.origin}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: REDIRECT_URI, scope: 'openid', state: 's',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })}`;
  while (!url.startsWith(REDIRECT_URI)) {
    const response = await browser.jar.fetch(url, { headers: via });
    assert.ok(response.status >= 300 && response.status < 400, `${url} answered ${response.status}`);
    url = new URL(response.headers.get('location')!, url).href;
  }
  const token = await fetch(`${id.origin}/api/oidc/token`, {
    method: 'POST',
    headers: { 'x-forwarded-for': FORWARDED_FOR, 'user-agent': CLIENT_UA, authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: new URL(url).searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  assert.equal(token.status, 200, await token.clone().text());
}

// One server per TRUST_PROXY value, shared by the tests that read its audit trail.
const audits = new Map<string, ReturnType<typeof runSignIn>>();
const auditAfterSignIn = (trustProxy: string | undefined) => {
  const key = trustProxy ?? '(unset)';
  if (!audits.has(key)) audits.set(key, runSignIn(trustProxy));
  return audits.get(key)!;
};

async function runSignIn(trustProxy: string | undefined) {
  const id = await startIdServer(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy });
  try {
    const { user, browser } = await enrollUser(id, { username: 'alice', groups: ['friends'] });
    const { client, secret } = await id.services.clients.create({ name: 'app', redirectUris: [REDIRECT_URI], allowedGroups: ['friends'] });
    const startedAt = Date.now();
    await signInAndGetTokens(id, browser, { id: client.id, secret: secret! });
    const audit = id.services.identity.audit;
    const [signin] = (await audit.list({ event: 'signin' })).filter((e) => e.details.method === 'passkey');
    const [login] = await audit.list({ event: 'oidc_login' });
    const [granted] = await audit.list({ event: 'token_granted' });
    return { userId: user.id, clientId: client.id, startedAt, finishedAt: Date.now(), signin, login, granted };
  } finally {
    await id.close();
  }
}

describe('latchkey id audit trail and TRUST_PROXY', () => {
  it('records the passkey sign-in with its time, user, address and browser', async () => {
    const { signin, userId, startedAt, finishedAt } = await auditAfterSignIn(undefined);
    assert.ok(signin, 'a passkey sign-in is recorded');
    assert.equal(signin.userId, userId);
    assert.ok(signin.createdAt >= startedAt && signin.createdAt <= finishedAt);
    assert.equal(signin.ip, '127.0.0.1');
    assert.equal(signin.userAgent, BROWSER_UA);
  });

  it('records the provider sign-in and the token grant with the user, the client, the address and the user agent', async () => {
    const { login, granted, userId, clientId, startedAt, finishedAt } = await auditAfterSignIn(undefined);
    assert.equal(login?.userId, userId);
    assert.equal(login?.clientId, clientId);
    assert.equal(login?.userAgent, BROWSER_UA);
    assert.equal(granted?.userId, userId);
    assert.equal(granted?.clientId, clientId);
    assert.equal(granted?.ip, '127.0.0.1');
    assert.equal(granted?.userAgent, CLIENT_UA);
    assert.equal(granted?.details.grantType, 'authorization_code');
    assert.ok(granted.createdAt >= startedAt && granted.createdAt <= finishedAt);
  });

  it('ignores a spoofed X-Forwarded-For when TRUST_PROXY is unset', async () => {
    const { signin, login, granted } = await auditAfterSignIn(undefined);
    assert.deepEqual([signin.ip, login.ip, granted.ip], ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('believes X-Forwarded-For from a proxy listed in TRUST_PROXY', async () => {
    const { signin, login, granted } = await auditAfterSignIn('127.0.0.1');
    assert.deepEqual([signin.ip, login.ip, granted.ip], [SPOOFED_IP, SPOOFED_IP, SPOOFED_IP]);
  });

  it('believes TRUST_PROXY=true as one proxy: the address it added, never the visitor\'s own claim before it', async () => {
    const { signin, login, granted } = await auditAfterSignIn('true');
    assert.deepEqual([signin.ip, login.ip, granted.ip], [SPOOFED_IP, SPOOFED_IP, SPOOFED_IP]);
  });

  it('ignores X-Forwarded-For from a peer outside the TRUST_PROXY list', async () => {
    const { signin, login, granted } = await auditAfterSignIn('10.0.0.0/8');
    assert.deepEqual([signin.ip, login.ip, granted.ip], ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });
});

describe('latchkey id behind a proxy it trusts, given a forged Host', () => {
  const forged = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
  let id: IdServer;
  after(() => id?.close());

  it('keeps the issuer and every discovery URL on APP_URL', async () => {
    id = await startIdServer({ TRUST_PROXY: 'true' });
    const { browser } = await enrollUser(id, { username: 'alice', groups: ['friends'] });
    const response = await browser.jar.fetch(`${id.origin}/.well-known/openid-configuration`, { headers: { ...forged, accept: 'application/json' } });
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.equal(metadata.issuer, id.origin);
    const urls = Object.entries(metadata).filter(([, value]) => typeof value === 'string' && /^https?:/.test(value));
    assert.ok(urls.length >= 6, `found ${urls.length} URLs`);
    for (const [key, value] of urls) if (key !== 'issuer') assert.ok(String(value).startsWith(`${id.origin}/`), `${key}: ${value}`);
  });

  it('keeps every redirect of a sign-in, and the logout page, on APP_URL', async () => {
    const { browser } = await enrollUser(id, { username: 'bob', groups: ['friends'] });
    const { client } = await id.services.clients.create({ name: 'spa', isPublic: true, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [`${REDIRECT_URI}/out`], allowedGroups: ['friends'] });
    const locations: string[] = [];
    const get = async (url: string) => {
      const response = await browser.jar.fetch(url, { headers: forged });
      const location = response.headers.get('location');
      if (location) locations.push(location);
      return { response, location };
    };
    let next: string | null = `${id.origin}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: client.id, redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'S256',
    })}`;
    // Signed out: the provider sends the browser to its own sign-in page, on APP_URL.
    while (next && !next.startsWith(REDIRECT_URI) && !new URL(next, id.origin).pathname.startsWith('/login')) next = (await get(new URL(next, id.origin).href)).location;
    assert.match(next!, new RegExp(`^(${id.origin})?/login\\?next=`));
    await get(new URL(next!, id.origin).href);
    const signedIn = await browser.signInWithPasskey();
    next = String(signedIn.body.redirectTo);
    while (next && !next.startsWith(REDIRECT_URI)) next = (await get(new URL(next, id.origin).href)).location;
    assert.ok(next?.startsWith(`${REDIRECT_URI}?`), `ended at ${next} after ${locations.join(' → ')}`);
    assert.equal(new URL(next!).searchParams.get('iss'), id.origin);
    for (const location of locations) assert.ok(location.startsWith('/') || location.startsWith(id.origin) || location.startsWith(REDIRECT_URI), location);

    const logout = await get(`${id.origin}/api/oidc/end-session?client_id=${client.id}&post_logout_redirect_uri=${encodeURIComponent(`${REDIRECT_URI}/out`)}`);
    const form = parseForm(await logout.response.text(), id.origin);
    assert.ok(form.action.startsWith(`${id.origin}/`), form.action);
  });
});
