// The static edge served by a plain node:http server over a temporary site folder, asserted
// request by request. Raw request paths (http.request's `path`) keep "..", "//" and
// percent-encoding exactly as an attacker would send them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gunzipSync, brotliDecompressSync, gzipSync } from 'node:zlib';
import { manualClock } from '../../src/core/clock.ts';
import type { Clock } from '../../src/core/clock.ts';
import { createStaticSite } from '../../src/edge/static-site.ts';
import type { StaticSite, StaticSiteOptions } from '../../src/edge/static-site.ts';
import { acceptingAbsoluteForm } from '../../src/app/site-handler.ts';

interface Reply { status: number; headers: IncomingHttpHeaders; body: Buffer }

function send(port: number, path: string, options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    if (options.timeoutMs) req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer to ${path} within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const CSS = 'body { color: #222; }\n'.repeat(40);
const BIG = randomBytes(1024 * 1024 + 123); // above the in-memory limit, so it is streamed
const SECRET = 'the family recipe';

function buildSite(): string {
  const root = mkdtempSync(join(tmpdir(), 'latchkey-edge-'));
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  write('index.html', '<h1>home</h1>');
  write('404.html', '<h1>custom not found</h1>');
  write('css/style.css', CSS);
  write('css/style.css.gz', gzipSync(CSS));
  write('css/style.css.br', brotliCompressSync(Buffer.from(CSS)));
  write('media/big.bin', BIG);
  write('docs/index.html', '<h1>docs</h1>');
  mkdirSync(join(root, 'empty'));
  write('a b.txt', 'spaced');
  write('private/index.html', '<h1>private home</h1>');
  write('private/secret.html', `<p>${SECRET}</p>`);
  write('private/family/index.html', '<h1>family</h1>');
  write('.env', 'SECRET=1');
  write('.git/config', '[core]');
  write('.well-known/security.txt', 'Contact: mailto:a@example.com');
  symlinkSync('/etc/passwd', join(root, 'passwd-link'));
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(root, 'private/secret.html'), join(root, 'public-view.html'));
  symlinkSync(join(root, '.env'), join(root, 'env.txt'));
  // Precompressed siblings that are symlinks to bytes protected differently from their file.
  write('page.html', '<h1>public page</h1>');
  write('private/secret.html.gz', gzipSync(`<p>${SECRET}</p>`));
  write('private/secret.html.br', brotliCompressSync(Buffer.from(`<p>${SECRET}</p>`)));
  write('private/family/index.html.gz', gzipSync('<h1>family</h1>'));
  symlinkSync(join(root, 'private/secret.html.gz'), join(root, 'page.html.gz'));
  symlinkSync(join(root, 'private/secret.html.br'), join(root, '404.html.br'));
  symlinkSync(join(root, 'private/family/index.html.gz'), join(root, 'private/index.html.gz'));
  return root;
}

/** Bytes exactly as long as their compressed form: deterministic noise, then a run that compresses to almost nothing. */
function sameSizeAsCompressed(compress: (input: Buffer) => Buffer): Buffer {
  const noise = Buffer.alloc(200);
  for (let i = 0, x = 7; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  for (let run = 0; run < 400; run++) {
    const candidate = Buffer.concat([noise, Buffer.alloc(run, 'x')]);
    if (compress(candidate).length === candidate.length) return candidate;
  }
  throw new Error('no same-size content found');
}

// The test's stand-in for the proxy: protected paths need `x-test-auth: yes`.
async function startServer(site: StaticSite): Promise<{ server: Server; port: number }> {
  // in front of everything, as in serve: absolute-form targets become origin-form or a 400
  const server = createServer(acceptingAbsoluteForm((req, res) => {
    const resolution = site.resolve(req.url ?? '/');
    if (resolution.kind === 'path' && resolution.protection && req.headers['x-test-auth'] !== 'yes') {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`sign in for ${resolution.protection.prefix}`);
      return;
    }
    void site.serve(req, res, resolution);
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function stopServer(server: Server) {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const AUTH = { 'x-test-auth': 'yes' };

describe('static edge over node:http', () => {
  let root: string;
  let site: StaticSite;
  let server: Server;
  let port: number;
  const get = (path: string, headers: Record<string, string> = {}) => send(port, path, { headers });

  before(async () => {
    root = buildSite();
    site = createStaticSite({
      root,
      protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }],
    });
    ({ server, port } = await startServer(site));
  });
  after(async () => {
    await stopServer(server);
    site.close();
    rmSync(root, { recursive: true, force: true });
  });

  describe('files', () => {
    it('serves the home page from index.html with an HTML content type and nosniff', async () => {
      const reply = await get('/');
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), '<h1>home</h1>');
      assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(reply.headers['x-content-type-options'], 'nosniff');
      assert.equal(reply.headers['content-length'], '13');
    });

    it('labels CSS as text/css', async () => {
      assert.equal((await get('/css/style.css')).headers['content-type'], 'text/css; charset=utf-8');
    });

    it('sends an nginx-shaped ETag and a Last-Modified date', async () => {
      const reply = await get('/css/style.css');
      assert.match(reply.headers.etag!, /^"[0-9a-f]+-[0-9a-f]+"$/);
      assert.ok(!Number.isNaN(Date.parse(reply.headers['last-modified']!)));
    });

    it('answers HEAD with the GET headers and no body', async () => {
      const head = await send(port, '/media/big.bin', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(BIG.length));
      assert.equal(head.body.length, 0);
    });

    it('streams a large file intact', async () => {
      const reply = await get('/media/big.bin');
      assert.equal(reply.headers['content-type'], 'application/octet-stream');
      assert.ok(reply.body.equals(BIG));
    });

    it('serves a file whose name contains an encoded space', async () => {
      assert.equal((await get('/a%20b.txt')).body.toString(), 'spaced');
    });

    it('refuses methods other than GET and HEAD with 405 and Allow', async () => {
      const reply = await send(port, '/', { method: 'POST' });
      assert.equal(reply.status, 405);
      assert.equal(reply.headers.allow, 'GET, HEAD');
    });
  });

  describe('conditional requests', () => {
    it('answers 304 to a matching If-None-Match, keeping the validators', async () => {
      const first = await get('/css/style.css');
      const again = await get('/css/style.css', { 'if-none-match': first.headers.etag! });
      assert.equal(again.status, 304);
      assert.equal(again.headers.etag, first.headers.etag);
      assert.equal(again.body.length, 0);
    });

    it('answers 304 to If-Modified-Since equal to Last-Modified', async () => {
      const first = await get('/index.html');
      assert.equal((await get('/index.html', { 'if-modified-since': first.headers['last-modified']! })).status, 304);
    });

    it('lets a non-matching If-None-Match win over a matching If-Modified-Since', async () => {
      const first = await get('/index.html');
      const reply = await get('/index.html', { 'if-none-match': '"nope"', 'if-modified-since': first.headers['last-modified']! });
      assert.equal(reply.status, 200);
    });

    it('sends the file to an If-Modified-Since that is not an HTTP-date', async () => {
      assert.equal((await get('/index.html', { 'if-modified-since': '2099' })).status, 200);
    });

    it('answers 412 to an If-Match without the ETag, with the file\'s validators and Vary', async () => {
      const first = await get('/css/style.css', { 'accept-encoding': 'br' });
      const reply = await get('/css/style.css', { 'accept-encoding': 'br', 'if-match': '"stale-1"' });
      assert.equal(reply.status, 412);
      assert.equal(reply.body.length, 0);
      assert.equal(reply.headers.etag, first.headers.etag);
      assert.equal(reply.headers.vary, 'Accept-Encoding');
      assert.equal((await get('/css/style.css', { 'accept-encoding': 'br', 'if-match': first.headers.etag! })).status, 200);
    });

    it('answers 412 to an If-Unmodified-Since before Last-Modified, and serves the file from that date on', async () => {
      const { headers } = await get('/index.html');
      const before = new Date(Date.parse(headers['last-modified']!) - 1000).toUTCString();
      assert.equal((await get('/index.html', { 'if-unmodified-since': before })).status, 412);
      assert.equal((await get('/index.html', { 'if-unmodified-since': headers['last-modified']! })).status, 200);
    });

    it('answers 412 before Range is considered', async () => {
      assert.equal((await get('/media/big.bin', { 'if-match': '"stale-1"', range: 'bytes=0-9' })).status, 412);
    });
  });

  describe('ranges', () => {
    it('answers a closed range of a streamed file with 206 and Content-Range', async () => {
      const reply = await get('/media/big.bin', { range: 'bytes=1000-1999' });
      assert.equal(reply.status, 206);
      assert.equal(reply.headers['content-range'], `bytes 1000-1999/${BIG.length}`);
      assert.equal(reply.headers['content-length'], '1000');
      assert.ok(reply.body.equals(BIG.subarray(1000, 2000)));
    });

    it('answers an open-ended range with the rest of the file', async () => {
      const reply = await get('/media/big.bin', { range: `bytes=${BIG.length - 10}-` });
      assert.equal(reply.status, 206);
      assert.ok(reply.body.equals(BIG.subarray(BIG.length - 10)));
    });

    it('answers a suffix range of a file held in memory with its last bytes', async () => {
      const reply = await get('/css/style.css', { range: 'bytes=-7' });
      assert.equal(reply.status, 206);
      assert.equal(reply.body.toString(), CSS.slice(-7));
      assert.equal(reply.headers['content-range'], `bytes ${CSS.length - 7}-${CSS.length - 1}/${CSS.length}`);
    });

    it('answers an unsatisfiable range with 416 and the full length', async () => {
      const reply = await get('/media/big.bin', { range: `bytes=${BIG.length}-` });
      assert.equal(reply.status, 416);
      assert.equal(reply.headers['content-range'], `bytes */${BIG.length}`);
    });

    it('sends the whole file with 200 for several ranges', async () => {
      const reply = await get('/css/style.css', { range: 'bytes=0-1,5-6' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), CSS);
    });

    it('honours Range when If-Range carries the current ETag', async () => {
      const { headers } = await get('/media/big.bin', { 'accept-encoding': 'identity' });
      assert.equal((await get('/media/big.bin', { range: 'bytes=0-9', 'if-range': headers.etag! })).status, 206);
    });

    it('sends the whole file when If-Range carries a stale ETag', async () => {
      const reply = await get('/css/style.css', { range: 'bytes=0-9', 'if-range': '"stale-1"' });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.length, CSS.length);
    });

    it('serves ranges from the uncompressed file even when the client accepts gzip', async () => {
      const reply = await get('/css/style.css', { range: 'bytes=0-3', 'accept-encoding': 'gzip, br' });
      assert.equal(reply.status, 206);
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.body.toString(), CSS.slice(0, 4));
      assert.equal(reply.headers.vary, 'Accept-Encoding');
    });

    it('ignores Range on HEAD (RFC 9110 §14.2)', async () => {
      assert.equal((await send(port, '/media/big.bin', { method: 'HEAD', headers: { range: 'bytes=0-1' } })).status, 200);
    });
  });

  describe('precompressed siblings', () => {
    it('serves the .br sibling to a client that accepts brotli', async () => {
      const reply = await get('/css/style.css', { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(reply.headers['content-encoding'], 'br');
      assert.equal(reply.headers['content-type'], 'text/css; charset=utf-8');
      assert.equal(reply.headers.vary, 'Accept-Encoding');
      assert.equal(brotliDecompressSync(reply.body).toString(), CSS);
    });

    it('serves the .gz sibling when brotli is refused with q=0', async () => {
      const reply = await get('/css/style.css', { 'accept-encoding': 'br;q=0, gzip' });
      assert.equal(reply.headers['content-encoding'], 'gzip');
      assert.equal(gunzipSync(reply.body).toString(), CSS);
    });

    it('gives a same-size sibling with the same mtime (gzip -k, brotli -k) its own ETag', async () => {
      for (const [encoding, suffix, compress] of [['gzip', '.gz', gzipSync], ['br', '.br', brotliCompressSync]] as const) {
        const name = `same-size-${encoding}.txt`;
        const original = sameSizeAsCompressed(compress);
        writeFileSync(join(root, name), original);
        writeFileSync(join(root, name + suffix), compress(original));
        const mtime = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
        for (const file of [name, name + suffix]) utimesSync(join(root, file), mtime, mtime);
        const plain = await get(`/${name}`, { 'accept-encoding': 'identity' });
        const compressed = await get(`/${name}`, { 'accept-encoding': encoding });
        assert.equal(compressed.headers['content-encoding'], encoding);
        assert.equal(compressed.headers['content-length'], plain.headers['content-length'], 'the sizes are the same');
        assert.notEqual(compressed.headers.etag, plain.headers.etag, encoding);
        // neither representation's validator stands for the other's bytes
        const crossed = await get(`/${name}`, { 'accept-encoding': encoding, 'if-none-match': plain.headers.etag! });
        assert.equal(crossed.status, 200);
        assert.equal(crossed.headers['content-encoding'], encoding);
        assert.equal((await get(`/${name}`, { 'accept-encoding': 'identity', 'if-none-match': compressed.headers.etag! })).status, 200);
        assert.equal((await get(`/${name}`, { 'accept-encoding': encoding, 'if-none-match': compressed.headers.etag! })).status, 304);
      }
    });

    it('gives each encoding its own ETag', async () => {
      const br = await get('/css/style.css', { 'accept-encoding': 'br' });
      const plain = await get('/css/style.css');
      assert.notEqual(br.headers.etag, plain.headers.etag);
    });

    it('serves the plain file, still with Vary, to a client that accepts no compression', async () => {
      const reply = await get('/css/style.css', { 'accept-encoding': 'identity' });
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.headers.vary, 'Accept-Encoding');
      assert.equal(reply.body.toString(), CSS);
    });

    it('sends no Vary for a file without siblings', async () => {
      assert.equal((await get('/index.html', { 'accept-encoding': 'br' })).headers.vary, undefined);
    });
  });

  describe('directories and missing files', () => {
    it('redirects a directory without its slash to the slash, keeping the query string', async () => {
      const reply = await get('/docs?lang=en&x=1');
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, '/docs/?lang=en&x=1');
    });

    it('serves index.html for a directory with its slash', async () => {
      assert.equal((await get('/docs/')).body.toString(), '<h1>docs</h1>');
    });

    it('answers 404, never a listing, for a directory without index.html', async () => {
      const reply = await get('/empty/');
      assert.equal(reply.status, 404);
      assert.equal(reply.body.toString(), '<h1>custom not found</h1>');
    });

    it('answers a missing file with the site\'s 404.html and status 404', async () => {
      const reply = await get('/no/such/page/');
      assert.equal(reply.status, 404);
      assert.equal(reply.body.toString(), '<h1>custom not found</h1>');
      assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    });

    it('answers 404 for a file asked for with a trailing slash', async () => {
      assert.equal((await get('/index.html/')).status, 404);
    });

    it('cannot be turned into an open redirect by a leading "//"', async () => {
      const reply = await get('//docs');
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, '/docs/');
    });
  });

  describe('staying inside the root', () => {
    for (const path of ['/../../../../etc/passwd', '/css/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd']) {
      it(`keeps "${path}" inside the root`, async () => {
        const reply = await get(path);
        assert.equal(reply.status, 404);
        assert.doesNotMatch(reply.body.toString(), /root:/);
      });
    }

    it('answers 404 for a symlink to a file outside the root', async () => {
      const reply = await get('/passwd-link');
      assert.equal(reply.status, 404);
      assert.doesNotMatch(reply.body.toString(), /root:/);
    });

    it('answers 404 for a path through a symlinked directory outside the root', async () => {
      assert.equal((await get('/etc-link/passwd')).status, 404);
    });

    it('answers 404 for dotfiles and dot folders', async () => {
      assert.equal((await get('/.env')).status, 404);
      assert.equal((await get('/.git/config')).status, 404);
      assert.equal((await get('/%2eenv')).status, 404);
    });

    it('answers 404 for a public symlink to a dotfile', async () => {
      assert.equal((await get('/env.txt')).status, 404);
    });

    it('serves /.well-known/', async () => {
      const reply = await get('/.well-known/security.txt');
      assert.equal(reply.status, 200);
      assert.match(reply.body.toString(), /Contact/);
    });

    it('normalises runs of slashes', async () => {
      assert.equal((await get('//css///style.css')).body.toString(), CSS);
    });

    for (const [path, why] of [['/a%2fb', 'an encoded slash'], ['/a%5Cb', 'an encoded backslash'], ['/a\\b', 'a backslash'],
      ['/a%00b', 'a NUL byte'], ['/a%zzb', 'bad percent-encoding'], ['/a%c3', 'truncated UTF-8']]) {
      it(`answers 400 to a path with ${why}`, async () => {
        assert.equal((await get(path)).status, 400);
      });
    }
  });

  describe('protected prefixes', () => {
    it('serves a protected page only after the caller\'s check, marked private, no-store', async () => {
      assert.equal((await get('/private/secret.html')).status, 401);
      const reply = await get('/private/secret.html', AUTH);
      assert.equal(reply.status, 200);
      assert.match(reply.body.toString(), new RegExp(SECRET));
      assert.equal(reply.headers['cache-control'], 'private, no-store');
    });

    it('leaves public pages without Cache-Control', async () => {
      assert.equal((await get('/')).headers['cache-control'], undefined);
    });

    for (const path of ['/private/../private/secret.html', '/./private/secret.html', '//private/secret.html',
      '/%70rivate/secret.html', '/public/../private/secret.html', '/private/./secret.html', '/PRIVATE/secret.html',
      '/%2e/private/secret.html', '/private',
      // a fullwidth "p": a file system that folds compatibility forms would open the same file
      '/%EF%BD%90rivate/secret.html']) {
      it(`protects "${path}"`, async () => {
        const reply = await get(path);
        assert.equal(reply.status, 401);
        assert.doesNotMatch(reply.body.toString(), new RegExp(SECRET));
      });
    }

    // absolute-form (RFC 9112 §3.2.2): the path inside the URI is the one served and checked
    for (const target of ['http://127.0.0.1/private/secret.html', 'http://127.0.0.1//private/secret.html',
      'HTTP://127.0.0.1:1/private/secret.html', 'https://other.example:8443/%70rivate/secret.html',
      'http://[::1]/public/../private/secret.html', 'http://127.0.0.1/private?x=1']) {
      it(`protects the absolute-form target "${target}"`, async () => {
        const reply = await get(target);
        assert.equal(reply.status, 401);
        assert.doesNotMatch(reply.body.toString(), new RegExp(SECRET));
      });
    }

    for (const target of ['http://user:pw@127.0.0.1/private/secret.html', 'http://@127.0.0.1/private/secret.html',
      'ftp://127.0.0.1/private/secret.html', 'file:///private/secret.html', 'http:///private/secret.html',
      'http://127.0.0.1:port/private/secret.html', 'http://127.0.0.1#/private/secret.html']) {
      it(`refuses the absolute-form target "${target}" with 400`, async () => {
        const reply = await get(target, AUTH);
        assert.equal(reply.status, 400);
        assert.doesNotMatch(reply.body.toString(), new RegExp(SECRET));
      });
    }

    it('serves an absolute-form target as its origin-form path, redirects included', async () => {
      const page = await get('http://127.0.0.1/css/style.css');
      assert.equal(page.status, 200);
      assert.equal(page.body.toString(), CSS);
      assert.equal((await get('http://127.0.0.1')).body.toString(), '<h1>home</h1>');
      const dir = await get('http://127.0.0.1//docs?lang=en');
      assert.equal(dir.status, 301);
      assert.equal(dir.headers.location, '/docs/?lang=en');
      const secret = await get('http://127.0.0.1/private', AUTH);
      assert.equal(secret.status, 301);
      assert.equal(secret.headers.location, '/private/');
      assert.equal(secret.headers['cache-control'], 'private, no-store');
    });

    it('refuses "/private%2fsecret.html" outright instead of serving it', async () => {
      const reply = await get('/private%2fsecret.html');
      assert.equal(reply.status, 400);
      assert.doesNotMatch(reply.body.toString(), new RegExp(SECRET));
    });

    it('gives the longest prefix to the family section', async () => {
      assert.equal((await get('/private/family/')).body.toString(), 'sign in for /private/family/');
    });

    it('redirects "/private" to "/private/" only after the check, without caching', async () => {
      const reply = await get('/private', AUTH);
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, '/private/');
      assert.equal(reply.headers['cache-control'], 'private, no-store');
    });

    it('marks the 404 page served under a protected prefix private, no-store', async () => {
      const reply = await get('/private/nothing-here', AUTH);
      assert.equal(reply.status, 404);
      assert.equal(reply.body.toString(), '<h1>custom not found</h1>');
      assert.equal(reply.headers['cache-control'], 'private, no-store');
    });

    it('answers 404 for a public symlink into the protected section', async () => {
      const reply = await get('/public-view.html');
      assert.equal(reply.status, 404);
      assert.doesNotMatch(reply.body.toString(), new RegExp(SECRET));
    });

    it('sends a public file uncompressed when its .gz sibling is a symlink into the protected section', async () => {
      const reply = await get('/page.html', { 'accept-encoding': 'gzip' });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.body.toString(), '<h1>public page</h1>');
    });

    it('sends the 404 page uncompressed when its .br sibling is a symlink into the protected section', async () => {
      const reply = await get('/no/such/page', { 'accept-encoding': 'br' });
      assert.equal(reply.status, 404);
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.body.toString(), '<h1>custom not found</h1>');
    });

    it('ignores a sibling protected by a different prefix than the file it compresses', async () => {
      const reply = await get('/private/', { ...AUTH, 'accept-encoding': 'gzip' });
      assert.equal(reply.headers['content-encoding'], undefined);
      assert.equal(reply.body.toString(), '<h1>private home</h1>');
    });

    it('marks 412 answers under a protected prefix private, no-store', async () => {
      const reply = await get('/private/secret.html', { ...AUTH, 'if-match': '"stale-1"' });
      assert.equal(reply.status, 412);
      assert.equal(reply.headers['cache-control'], 'private, no-store');
    });

    it('marks 304 answers under a protected prefix private, no-store', async () => {
      const first = await get('/private/secret.html', AUTH);
      const again = await get('/private/secret.html', { ...AUTH, 'if-none-match': first.headers.etag! });
      assert.equal(again.status, 304);
      assert.equal(again.headers['cache-control'], 'private, no-store');
    });
  });
});

describe('static edge without a 404.html', () => {
  it('answers missing files with a built-in 404 page', async () => {
    const root = mkdtempSync(join(tmpdir(), 'latchkey-edge-bare-'));
    writeFileSync(join(root, 'index.html'), 'hi');
    const site = createStaticSite({ root });
    const { server, port } = await startServer(site);
    try {
      const reply = await send(port, '/missing');
      assert.equal(reply.status, 404);
      assert.match(reply.body.toString(), /Not found/);
      assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    } finally {
      await stopServer(server);
      site.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('static edge cache', () => {
  async function withSite(clock: Clock | undefined, body: (ctx: { root: string; port: number }) => Promise<void>, extra: Partial<StaticSiteOptions> = {}) {
    const root = mkdtempSync(join(tmpdir(), 'latchkey-edge-cache-'));
    writeFileSync(join(root, 'page.html'), 'version 1');
    const site = createStaticSite({ root, clock, ...extra });
    const { server, port } = await startServer(site);
    try {
      await body({ root, port });
    } finally {
      await stopServer(server);
      site.close();
      rmSync(root, { recursive: true, force: true });
    }
  }

  it('keeps answering from memory for less than a second after a file changes', async () => {
    const clock = manualClock();
    await withSite(clock, async ({ root, port }) => {
      assert.equal((await send(port, '/page.html')).body.toString(), 'version 1');
      writeFileSync(join(root, 'page.html'), 'version 2');
      clock.advanceMs(999);
      assert.equal((await send(port, '/page.html')).body.toString(), 'version 1');
    });
  });

  it('serves a same-size edit once a second has passed, with a new ETag', async () => {
    const clock = manualClock();
    await withSite(clock, async ({ root, port }) => {
      const first = await send(port, '/page.html');
      writeFileSync(join(root, 'page.html'), 'version 2');
      utimesSync(join(root, 'page.html'), new Date(), new Date(Date.now() + 5000)); // a distinct mtime even on coarse file systems
      clock.advanceMs(1000);
      const second = await send(port, '/page.html');
      assert.equal(second.body.toString(), 'version 2');
      assert.notEqual(second.headers.etag, first.headers.etag);
    });
  });

  it('serves a same-size rewrite given its old mtime back (cp -p, touch -r) once a second has passed', async () => {
    const clock = manualClock();
    await withSite(clock, async ({ root, port }) => {
      const file = join(root, 'same.html');
      const mtime = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
      writeFileSync(file, 'AAAA');
      utimesSync(file, mtime, mtime);
      assert.equal((await send(port, '/same.html')).body.toString(), 'AAAA');
      await sleep(50); // ctime moves in clock ticks (a few ms on Linux)
      writeFileSync(file, 'BBBB'); // in place: same inode, same size
      utimesSync(file, mtime, mtime);
      clock.advanceMs(1000);
      assert.equal((await send(port, '/same.html')).body.toString(), 'BBBB');
    });
  });

  it('serves a file created after a 404 once a second has passed', async () => {
    const clock = manualClock();
    await withSite(clock, async ({ root, port }) => {
      assert.equal((await send(port, '/new.html')).status, 404);
      writeFileSync(join(root, 'new.html'), 'fresh');
      clock.advanceMs(1000);
      assert.equal((await send(port, '/new.html')).body.toString(), 'fresh');
    });
  });

  it('serves a rebuilt file fresh within about a second of real time', async () => {
    await withSite(undefined, async ({ root, port }) => {
      assert.equal((await send(port, '/page.html')).body.toString(), 'version 1');
      writeFileSync(join(root, 'page.html'), 'version 2, longer');
      await new Promise((resolve) => setTimeout(resolve, 1050));
      assert.equal((await send(port, '/page.html')).body.toString(), 'version 2, longer');
    });
  });

  it('notices a change to a large streamed file', async () => {
    const clock = manualClock();
    await withSite(clock, async ({ root, port }) => {
      writeFileSync(join(root, 'big.bin'), Buffer.alloc(4096, 1));
      assert.equal((await send(port, '/big.bin')).body.length, 4096);
      writeFileSync(join(root, 'big.bin'), Buffer.alloc(8192, 2));
      clock.advanceMs(1000);
      const reply = await send(port, '/big.bin');
      assert.equal(reply.body.length, 8192);
      assert.equal(reply.body[0], 2);
    }, { maxCachedFileBytes: 1024 });
  });
});

describe('static edge when answering fails', () => {
  it('reports the error and answers 500, whether the file came from memory or was just read from disk', async () => {
    const root = mkdtempSync(join(tmpdir(), 'latchkey-edge-fail-'));
    writeFileSync(join(root, 'page.html'), 'page');
    const reported: string[] = [];
    const site = createStaticSite({ root, clock: manualClock(), onError: (error) => reported.push((error as Error).message) });
    // The first writeHead of a request marked x-test-fail throws, as a broken response would.
    const server = createServer((req, res) => {
      if (req.headers['x-test-fail'] === 'yes') {
        const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
        let thrown = false;
        Object.assign(res, { writeHead: (...args: unknown[]) => {
          if (thrown) return writeHead(...args);
          thrown = true;
          throw new Error('writeHead failed');
        } });
      }
      void site.serve(req, res, site.resolve(req.url ?? '/'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const fromDisk = await send(port, '/page.html', { headers: { 'x-test-fail': 'yes' } });
      assert.equal(fromDisk.status, 500);
      const fromMemory = await send(port, '/page.html', { headers: { 'x-test-fail': 'yes' } });
      assert.equal(fromMemory.status, 500);
      assert.deepEqual(reported, ['writeHead failed', 'writeHead failed']);
      assert.equal((await send(port, '/page.html')).body.toString(), 'page');
    } finally {
      await stopServer(server);
      site.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('static edge when visitors leave before a large file is streamed', () => {
  it('closes every file it opened and reports no error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'latchkey-edge-gone-'));
    writeFileSync(join(root, 'big.bin'), BIG); // above the in-memory limit: streamed from disk
    const reported: unknown[] = [];
    const site = createStaticSite({ root, onError: (error) => reported.push(error) });
    let answered = 0;
    // Serves each request once its connection has closed: the visitor left before streaming began.
    const server = createServer((req, res) => {
      req.socket.once('close', () => void site.serve(req, res, site.resolve(req.url ?? '/')).then(() => answered++));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const openFiles = () => readdirSync('/proc/self/fd').length;
    try {
      const before = openFiles();
      const visitors = 300;
      await Promise.all(Array.from({ length: visitors }, () => new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n', () => socket.destroy()));
        socket.on('close', () => resolve());
        socket.on('error', reject);
      })));
      await waitFor(() => answered === visitors);
      assert.ok(openFiles() <= before + 5, `open files went from ${before} to ${openFiles()}`);
      assert.deepEqual(reported.map((error) => (error as NodeJS.ErrnoException).code), []);
    } finally {
      await stopServer(server);
      site.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('static edge with FIFOs in the site', () => {
  let root: string;
  let site: StaticSite;
  let server: Server;
  let port: number;
  const fifos = ['fifo-dir/index.html', 'page.html.gz', 'page.html.br', 'named-pipe.html'];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'latchkey-edge-fifo-'));
    mkdirSync(join(root, 'fifo-dir'));
    writeFileSync(join(root, 'page.html'), '<h1>page</h1>');
    for (const fifo of fifos) execFileSync('mkfifo', [join(root, fifo)]);
    site = createStaticSite({ root });
    ({ server, port } = await startServer(site));
  });
  after(async () => {
    // A reader still waiting in open() (the bug this guards against) is let go, so the process can end.
    for (const fifo of fifos) {
      try {
        closeSync(openSync(join(root, fifo), constants.O_WRONLY | constants.O_NONBLOCK));
      } catch { /* ENXIO: nobody was waiting */ }
    }
    await stopServer(server);
    site.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 404 for a directory whose index.html is a FIFO, without waiting for a writer', async () => {
    assert.equal((await send(port, '/fifo-dir/', { timeoutMs: 2000 })).status, 404);
  });

  it('answers 404 for a FIFO asked for by name', async () => {
    assert.equal((await send(port, '/named-pipe.html', { timeoutMs: 2000 })).status, 404);
  });

  it('sends the file uncompressed when its .gz and .br siblings are FIFOs', async () => {
    const reply = await send(port, '/page.html', { headers: { 'accept-encoding': 'br, gzip' }, timeoutMs: 2000 });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-encoding'], undefined);
    assert.equal(reply.body.toString(), '<h1>page</h1>');
  });
});

async function waitFor(done: () => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(10);
  }
}
