// `latchkey proxy --upstream=…` in oauth2-proxy's proxy mode, against the reference provider: an
// http upstream that records what it receives, a file upstream served by the static edge, an
// upstream that is down and one that never answers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyHarness, startProxyHarness } from '../helpers/proxy-harness.ts';
import type { CookieJar } from '../helpers/reference-provider.ts';

interface Received { method: string; url: string; headers: IncomingHttpHeaders; body: string }

/** An upstream that answers JSON describing the request; /slow/ never answers, /stream/ waits for release(). */
async function startRecordingUpstream() {
  const received: Received[] = [];
  let release = () => {};
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/slow/')) return; // never answers: the proxy's timeout must end it
    if (req.url?.startsWith('/stream/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      release = () => res.end('last');
      return;
    }
    if (req.url?.startsWith('/upload/')) {
      // answers as soon as the first chunk arrives, while the browser is still sending
      req.once('data', (chunk: Buffer) => res.end(`got ${chunk.toString()}`));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', connection: 'x-upstream-private', 'x-upstream-private': 'hop', 'set-cookie': 'app=1; Path=/' });
      res.end(JSON.stringify({ url: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    last: () => received.at(-1)!,
    release: () => release(),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** The status line and Location of a request sent byte for byte (fetch would clean the path first). */
function sendTarget(url: string, target: string): Promise<{ status: number; location: string | null }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve({ status: Number(answer.split(' ')[1]), location: /\r\nlocation: ([^\r]*)/i.exec(answer)?.[1] ?? null }));
    socket.on('error', reject);
  });
}

/** A request with node:http, which (unlike fetch) may send any header and stream the body. */
function rawRequest(url: string, options: { method?: string; headers?: Record<string, string> }) {
  return httpRequest(url, { method: options.method ?? 'GET', headers: options.headers });
}

const signedInHeaders = (jar: CookieJar, url: string, extra: Record<string, string> = {}) => ({ cookie: jar.header(url), ...extra });

describe('proxy upstreams: http, file and down, behind a sign-in', () => {
  let h: ProxyHarness;
  let app: Awaited<ReturnType<typeof startRecordingUpstream>>;
  let site: string;
  let ada: CookieJar;

  before(async () => {
    app = await startRecordingUpstream();
    site = mkdtempSync(join(tmpdir(), 'latchkey-file-upstream-'));
    writeFileSync(join(site, 'notes.txt'), 'private notes\n');
    mkdirSync(join(site, 'album'));
    writeFileSync(join(site, 'album', 'index.html'), '<h1>album</h1>');
    const downPort = await freePort();
    h = await startProxyHarness({
      config: {
        upstreams: [
          { kind: 'http', url: new URL(`${app.url}/`) },
          { kind: 'file', directory: site, path: '/files/' },
          { kind: 'http', url: new URL(`http://127.0.0.1:${downPort}/down/`) },
        ],
        upstreamTimeoutSeconds: 1,
        passAuthorizationHeader: true,
        passAccessToken: true,
        allowedGroups: ['staff'],
        skipAuthRoutes: [{ method: 'GET', pathPattern: /^\/public\// }, { method: 'GET', pathPattern: /\.css$/ }],
        cookie: { refreshSeconds: 60 },
        setXAuthRequest: true,
      },
      accounts: (login) => ({ email: `${login}@example.com`, email_verified: true, preferred_username: `${login}-p`, groups: login === 'ada' ? ['staff', 'admins'] : ['guests'] }),
    });
    ada = (await h.signIn('ada')).jar;
  });
  after(async () => {
    await h.close();
    await app.close();
    rmSync(site, { recursive: true, force: true });
  });

  it('sends a signed-in request to the http upstream with the path, query and body unchanged', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/app/notes?page=2`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { url: '/app/notes?page=2' });
    assert.equal(app.last().method, 'POST');
    assert.equal(app.last().body, 'hello');
  });

  it('tells the upstream who the user is, as oauth2-proxy does by default, plus the tokens when asked', async () => {
    await (await ada.fetch(`${h.proxyUrl}/app/who`)).arrayBuffer();
    const headers = app.last().headers;
    assert.equal(headers['x-forwarded-user'], 'ada');
    assert.equal(headers['x-forwarded-email'], 'ada@example.com');
    assert.equal(headers['x-forwarded-preferred-username'], 'ada-p');
    assert.equal(headers['x-forwarded-groups'], 'staff, admins', 'one header line per group');
    assert.ok(headers['x-forwarded-access-token'], '--pass-access-token');
    const idToken = JSON.parse(Buffer.from(String(headers.authorization).split('.')[1], 'base64url').toString());
    assert.equal(idToken.iss, h.op.issuer, '--pass-authorization-header sends the ID token');
    assert.equal(idToken.sub, 'ada');
  });

  it('adds the --set-xauthrequest headers to the upstream\'s answer, as oauth2-proxy does in proxy mode', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/app/answer`);
    await response.arrayBuffer();
    assert.equal(response.headers.get('x-auth-request-email'), 'ada@example.com');
    assert.equal(response.headers.get('x-auth-request-groups'), 'staff,admins');
  });

  it('removes identity headers a signed-in client sent, so nobody can claim another identity', async () => {
    const forged = { 'x-forwarded-user': 'root', 'x-forwarded-email': 'root@example.com', 'x-forwarded-groups': 'admins', 'x-auth-request-user': 'root', 'x-forwarded-access-token': 'forged', authorization: 'Bearer forged' };
    await (await ada.fetch(`${h.proxyUrl}/app/forged`, { headers: forged })).arrayBuffer();
    const headers = app.last().headers;
    assert.equal(headers['x-forwarded-user'], 'ada');
    assert.equal(headers['x-forwarded-email'], 'ada@example.com');
    assert.equal(headers['x-forwarded-groups'], 'staff, admins');
    assert.equal(headers['x-auth-request-user'], undefined);
    assert.notEqual(headers['x-forwarded-access-token'], 'forged');
    assert.notEqual(headers.authorization, 'Bearer forged');
  });

  it('sets X-Forwarded-For/-Proto/-Host from the connection, ignoring what an untrusted client claims', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.9' };
    await (await ada.fetch(`${h.proxyUrl}/app/forwarded`, { headers })).arrayBuffer();
    const received = app.last().headers;
    assert.equal(received['x-forwarded-for'], '127.0.0.1');
    assert.equal(received['x-forwarded-proto'], 'http');
    assert.equal(received['x-forwarded-host'], new URL(h.proxyUrl).host);
    assert.equal(received['x-real-ip'], undefined);
    assert.equal(received.host, new URL(h.proxyUrl).host, 'the browser\'s Host is passed on, as oauth2-proxy does by default');
  });

  it('drops hop-by-hop headers in both directions, including those named by Connection', async () => {
    const answer = await new Promise<{ headers: IncomingHttpHeaders }>((resolve, reject) => {
      rawRequest(`${h.proxyUrl}/app/hops`, { headers: signedInHeaders(ada, h.proxyUrl, { connection: 'keep-alive, x-client-private', 'x-client-private': 'hop' }) })
        .on('response', (res) => res.resume().on('end', () => resolve(res))).on('error', reject).end();
    });
    assert.equal(app.last().headers['x-client-private'], undefined);
    assert.equal(answer.headers['x-upstream-private'], undefined);
    assert.deepEqual(answer.headers['set-cookie'], ['app=1; Path=/'], 'the upstream\'s own headers do pass');
  });

  it('streams the upstream\'s answer to the browser before the upstream has finished', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      rawRequest(`${h.proxyUrl}/stream/`, { headers: signedInHeaders(ada, h.proxyUrl) })
        .on('response', (res) => res.once('data', (chunk: Buffer) => { resolve(chunk.toString()); app.release(); res.resume(); }))
        .on('error', reject).end();
    });
    assert.equal(first, 'first;');
  });

  it('streams the browser\'s body to the upstream before the browser has finished sending it', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = rawRequest(`${h.proxyUrl}/upload/`, { method: 'POST', headers: signedInHeaders(ada, h.proxyUrl, { 'content-type': 'application/octet-stream' }) });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk; }).on('end', () => resolve(text));
        req.end(); // only now: the upstream answered while the upload was still open
      }).on('error', reject);
      req.write('part-one');
      req.flushHeaders();
    });
    assert.equal(body, 'got part-one');
  });

  it('keeps its own pages out of frames and free of scripts, and leaves the upstream\'s answers as the upstream sent them', async () => {
    const page = await fetch(`${h.proxyUrl}/app/secret`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src/, 'no script at all (default-src none)');
    // the page's one inline style is allowed by its hash, so it still renders
    const style = /<style>([\s\S]*?)<\/style>/.exec(await page.text())![1];
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), csp);
    const upstream = await ada.fetch(`${h.proxyUrl}/app/notes`);
    await upstream.arrayBuffer();
    for (const name of ['x-frame-options', 'content-security-policy']) assert.equal(upstream.headers.get(name), null, `${name} on the upstream's answer`);
  });

  it('shows a browser without a session the sign-in page, with 403, and never reaches the upstream', async () => {
    const before = app.received.length;
    const response = await fetch(`${h.proxyUrl}/app/secret?x=1`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(response.status, 403);
    const page = await response.text();
    assert.match(page, /Sign in/);
    assert.match(page, /name="rd" value="\/app\/secret\?x=1"/);
    assert.equal(app.received.length, before);
  });

  it('answers 401 to a program asking for JSON without a session, as oauth2-proxy does', async () => {
    const before = app.received.length;
    const response = await fetch(`${h.proxyUrl}/app/api`, { headers: { accept: 'application/json' }, redirect: 'manual' });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    await response.arrayBuffer();
    assert.equal(app.received.length, before);
  });

  it('answers 403 to a signed-in user outside the allowed groups, without reaching the upstream', async () => {
    const { jar: bob } = await h.signIn('bob', {});
    const before = app.received.length;
    const response = await bob.fetch(`${h.proxyUrl}/app/staff-only`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 403);
    await response.arrayBuffer();
    assert.equal(app.received.length, before);
  });

  it('lets a --skip-auth-route request through without a session, stripped of forged identity headers', async () => {
    const response = await fetch(`${h.proxyUrl}/public/page`, { headers: { 'x-forwarded-user': 'root', 'x-forwarded-email': 'root@example.com' } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    assert.equal(app.last().url, '/public/page');
    assert.equal(app.last().headers['x-forwarded-user'], undefined);
    assert.equal(app.last().headers['x-forwarded-email'], undefined);
  });

  it('applies a --skip-auth-route only to its method', async () => {
    const response = await fetch(`${h.proxyUrl}/public/page`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(response.status, 401);
    await response.arrayBuffer();
  });

  // A skip route and the upstream must read the same path, or a public-looking one reaches a
  // private file: the upstream (and the file upstream itself) resolves `..`, drops a fragment.
  it('sends a path with dot segments or "//" to its clean form before any check, so no skip route is fooled', async () => {
    const before = app.received.length;
    for (const [target, clean] of [['/public/../notes', '/notes'], ['/public/%2e%2e/files/notes.txt', '/files/notes.txt'], ['/public//../files/notes.txt?a=1', '/files/notes.txt?a=1'], ['//public/x', '/public/x']]) {
      assert.deepEqual(await sendTarget(h.proxyUrl, target), { status: 301, location: clean }, target);
    }
    assert.equal(app.received.length, before, 'nothing reached the upstream');
  });

  it('refuses a path with a raw "#", a backslash or an encoded slash with 400, and matches skip routes before an encoded "#"', async () => {
    const before = app.received.length;
    for (const target of ['/notes#.css', '/public/..\\notes', '/public/%2e%2e%2fnotes', '/public/..%5cnotes']) {
      assert.equal((await sendTarget(h.proxyUrl, target)).status, 400, target);
    }
    assert.equal((await sendTarget(h.proxyUrl, '/notes%23.css')).status, 401, 'an encoded "#" cuts the path the skip routes see');
    assert.equal(app.received.length, before, 'nothing reached the upstream');
    assert.equal((await sendTarget(h.proxyUrl, '/theme/site.css')).status, 200, 'the skip route still works');
  });

  it('serves a file upstream with the static edge: the file, validators, and no caching of private files', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/files/notes.txt`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'private notes\n');
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(response.headers.get('cache-control'), 'private, no-store');
    const etag = response.headers.get('etag')!;
    const again = await ada.fetch(`${h.proxyUrl}/files/notes.txt`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('redirects a file upstream folder without its slash to the folder under the upstream\'s path', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/files/album?view=grid`);
    assert.equal(response.status, 301);
    assert.equal(response.headers.get('location'), '/files/album/?view=grid');
    const folder = await ada.fetch(`${h.proxyUrl}/files/album/`);
    assert.equal(await folder.text(), '<h1>album</h1>');
  });

  it('answers 404 for a file missing from the file upstream, and never serves files outside its folder', async () => {
    const missing = await ada.fetch(`${h.proxyUrl}/files/absent.txt`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const escape = await ada.fetch(`${h.proxyUrl}/files/..%2f..%2fetc%2fpasswd`);
    assert.notEqual(escape.status, 200);
    await escape.arrayBuffer();
  });

  it('sends a path the "/" upstream owns there, even when a longer upstream differs only by its slash (oauth2-proxy v7)', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/files`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { url: '/files' });
  });

  it('sends a session refreshed on the way along with the upstream\'s own cookies', async () => {
    const startMs = h.clock.nowMs();
    h.clock.advanceMs(61_000);
    try {
      const response = await ada.fetch(`${h.proxyUrl}/app/refresh`);
      await response.arrayBuffer();
      const names = response.headers.getSetCookie().map((line) => line.split('=')[0]);
      assert.ok(names.includes('app'), 'the upstream\'s cookie');
      assert.ok(names.includes('_oauth2_proxy'), 'the refreshed session');
    } finally {
      h.clock.advanceMs(startMs - h.clock.nowMs());
    }
  });

  it('answers 502 with an error page when the upstream is down', async () => {
    const response = await ada.fetch(`${h.proxyUrl}/down/page`, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 502);
    assert.match(await response.text(), /did not answer/);
  });

  it('answers 502 when the upstream does not start answering within --upstream-timeout', async () => {
    const started = Date.now();
    const response = await ada.fetch(`${h.proxyUrl}/slow/page`, { headers: { accept: 'application/json' } });
    assert.equal(response.status, 502);
    assert.equal((await response.json()).error, 'bad_gateway');
    assert.ok(Date.now() - started >= 900, 'waited for the timeout');
  });
});

describe('proxy upstreams with --skip-provider-button and a static upstream', () => {
  let h: ProxyHarness;
  before(async () => {
    h = await startProxyHarness({ config: { upstreams: [{ kind: 'static', statusCode: 202 }], skipProviderButton: true, setXAuthRequest: true } });
  });
  after(() => h.close());

  it('sends a browser without a session straight to the provider, remembering the page', async () => {
    const response = await fetch(`${h.proxyUrl}/reports/q3`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' }, redirect: 'manual' });
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.origin, h.op.issuer);
    await response.arrayBuffer();
  });

  // Each sign-in start sets a CSRF cookie; an image cannot follow the sign-in anyway (navigation.ts).
  it('answers a signed-out image or script 401 without starting a sign-in, here and at /oauth2/sign_in', async () => {
    for (const path of ['/reports/chart.png', '/oauth2/sign_in']) {
      const response = await fetch(`${h.proxyUrl}${path}`, { headers: { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-site': 'same-origin' }, redirect: 'manual' });
      assert.equal(response.status, 401, path);
      assert.deepEqual(response.headers.getSetCookie(), [], 'no cookie at all');
      await response.arrayBuffer();
    }
    const navigation = await fetch(`${h.proxyUrl}/oauth2/sign_in`, { headers: { 'sec-fetch-dest': 'document' }, redirect: 'manual' });
    assert.equal(navigation.status, 302);
    assert.ok(navigation.headers.getSetCookie().some((line) => /_csrf=./.test(line)), 'the CSRF cookie of the sign-in started');
  });

  it('answers every path of a signed-in user with the static code', async () => {
    const { jar } = await h.signIn('ada');
    const response = await jar.fetch(`${h.proxyUrl}/reports/q3`);
    assert.equal(response.status, 202);
    assert.equal(await response.text(), 'Authenticated');
    assert.equal(response.headers.get('x-auth-request-user'), 'ada', 'with --set-xauthrequest');
  });
});

describe('proxy upstreams without one for "/"', () => {
  let h: ProxyHarness;
  let site: string;
  let jar: CookieJar;
  before(async () => {
    site = mkdtempSync(join(tmpdir(), 'latchkey-file-upstream-'));
    writeFileSync(join(site, 'index.html'), '<h1>docs</h1>');
    h = await startProxyHarness({ config: { upstreams: [{ kind: 'file', directory: site, path: '/docs/' }] } });
    jar = (await h.signIn('ada')).jar;
  });
  after(async () => {
    await h.close();
    rmSync(site, { recursive: true, force: true });
  });

  it('sends a path naming an upstream without its trailing slash there with a 301, query kept', async () => {
    const response = await jar.fetch(`${h.proxyUrl}/docs?lang=en`);
    assert.equal(response.status, 301);
    assert.equal(response.headers.get('location'), '/docs/?lang=en');
  });

  it('answers 404 to a signed-in user for a path no upstream owns', async () => {
    const response = await jar.fetch(`${h.proxyUrl}/elsewhere`);
    assert.equal(response.status, 404);
    await response.arrayBuffer();
  });

  it('still asks for a sign-in first on a path no upstream owns, as oauth2-proxy does', async () => {
    const response = await fetch(`${h.proxyUrl}/elsewhere`, { headers: { accept: 'application/json' } });
    assert.equal(response.status, 401);
    await response.arrayBuffer();
  });
});
