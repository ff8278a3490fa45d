// serve's site handler and absolute-form request-targets (RFC 9112 §3.2.2): what the proxy and the
// static edge are handed after it. The edge and the proxy are stand-ins that record what they saw.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { acceptingAbsoluteForm, createSiteHandler } from '../../src/app/site-handler.ts';
import type { StaticSite } from '../../src/edge/static-site.ts';
import type { ProxyLogger, ProxyRuntime } from '../../src/proxy/proxy-runtime.ts';

interface Seen { by: 'proxy' | 'site'; url: string | undefined; host: string | undefined; resolved?: string }

describe('site handler: absolute-form request-targets', () => {
  let server: Server;
  let port: number;
  const seen: Seen[] = [];
  const record = (by: Seen['by'], req: IncomingMessage, resolved?: string) => seen.push({ by, url: req.url, host: req.headers.host, resolved });
  let lastResolved: string | undefined;

  before(async () => {
    const site = {
      resolve: (target: string) => {
        lastResolved = target;
        return { kind: 'path', pathname: target.split('?')[0], query: '', protection: null };
      },
      serve: (req, res) => {
        record('site', req, lastResolved);
        res.writeHead(200).end();
        return Promise.resolve();
      },
    } as Pick<StaticSite, 'resolve' | 'serve'> as StaticSite;
    const runtime = { config: { proxyPrefix: '/oauth2', pingPath: '/ping', readyPath: '/ready', cookie: { name: '_oauth2_proxy' } } } as unknown as ProxyRuntime;
    const handler = createSiteHandler({
      site, runtime, endSessionUrl: 'http://id.example/end',
      proxy: (req, res) => {
        record('proxy', req);
        res.writeHead(204).end();
      },
      health: (_req, res) => void res.writeHead(204).end(),
      logger: { error: () => {}, warn: () => {}, info: () => {} } as unknown as ProxyLogger,
    });
    server = createServer(acceptingAbsoluteForm(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const send = (target: string, host = 'site.example') => new Promise<number>((resolve, reject) => {
    seen.length = 0;
    const req = request({ host: '127.0.0.1', port, path: target, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });

  it('hands the proxy the origin-form path and the authority as Host', async () => {
    assert.equal(await send('http://Other.example:8443/oauth2/auth?allowed_groups=a'), 204);
    assert.deepEqual(seen, [{ by: 'proxy', url: '/oauth2/auth?allowed_groups=a', host: 'Other.example:8443', resolved: undefined }]);
  });

  it('hands the static edge the origin-form path and the authority as Host', async () => {
    assert.equal(await send('https://other.example//private/x?y=1'), 200);
    assert.deepEqual(seen, [{ by: 'site', url: '//private/x?y=1', host: 'other.example', resolved: '//private/x?y=1' }]);
  });

  it('leaves an origin-form request as it came', async () => {
    assert.equal(await send('/page.html', 'site.example:8080'), 200);
    assert.deepEqual(seen, [{ by: 'site', url: '/page.html', host: 'site.example:8080', resolved: '/page.html' }]);
  });

  it('answers 400 to another scheme or to userinfo, without asking the proxy or the edge', async () => {
    for (const target of ['ftp://site.example/private/x', 'http://user:pw@site.example/oauth2/auth', 'http://site.example:x/']) {
      assert.equal(await send(target), 400, target);
      assert.deepEqual(seen, [], target);
    }
  });
});
