// The scale-out topology on one machine: real nginx round-robin in front of two `latchkey id`
// instances (one PostgreSQL database, one Redis) and two `latchkey proxy` instances (sessions in
// Redis). Each instance counts the requests it served, so tests can prove the load was spread.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createIdApp, type IdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';
import { connectTestRedis, createTestPostgres, deleteRedisKeys, REDIS_URL, testRedisPrefix, type TestPostgres } from './backends.ts';
import { freePort, onFreshPorts, startNginx, writeNginxConf } from './deploy-tools.ts';
import { proxyConfigFixture } from './proxy-config-fixture.ts';

export interface Instance<T> { server: T; port: number; served: number; running: boolean; stop(): Promise<void> }

export interface ScaleOutStack {
  /** The identity provider's public origin (nginx), http://localhost:PORT. */
  idOrigin: string;
  /** The protected site's origin (nginx), http://127.0.0.1:PORT. */
  siteOrigin: string;
  ids: Instance<IdApp>[];
  proxies: Instance<ProxyServer>[];
  clientId: string;
  close(): Promise<void>;
}

const ENCRYPTION_KEY = 'test-encryption-key-0123456789abcdef';

function nginxSite(p: { idPort: number; sitePort: number; idPorts: number[]; proxyPorts: number[]; root: string }): string {
  const pool = (name: string, ports: number[]) =>
    `upstream ${name} {\n${ports.map((port) => `    server 127.0.0.1:${port} max_fails=1 fail_timeout=30s;`).join('\n')}\n}`;
  return `
${pool('latchkey_id', p.idPorts)}
${pool('latchkey_proxy', p.proxyPorts)}
proxy_buffer_size 16k;
proxy_buffers 8 16k;
server {
    listen 127.0.0.1:${p.idPort};
    listen [::1]:${p.idPort};
    server_name localhost;
    location / {
        proxy_pass http://latchkey_id;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
    }
}
server {
    listen 127.0.0.1:${p.sitePort};
    server_name 127.0.0.1;
    root ${p.root};
    location /oauth2/ {
        proxy_pass http://latchkey_proxy;
        proxy_set_header Host $http_host;
        proxy_set_header X-Auth-Request-Redirect $request_uri;
    }
    location = /oauth2/auth {
        proxy_pass http://latchkey_proxy;
        proxy_set_header Host $http_host;
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header Content-Length "";
        proxy_pass_request_body off;
    }
    location ^~ /private/ {
        auth_request /oauth2/auth;
        error_page 401 = @sign_in;
    }
    location @sign_in {
        return 302 /oauth2/start?rd=$request_uri;
    }
}
`;
}

/**
 * The whole stack again on fresh ports when nginx finds one taken by another test's server in
 * between (the id's public origin names nginx's port, so nothing can be kept), at most three times.
 */
export function startScaleOutStack(): Promise<ScaleOutStack> {
  return onFreshPorts(3, startScaleOutStackOnPorts);
}

async function startScaleOutStackOnPorts(): Promise<ScaleOutStack> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-scale-out-'));
  const root = join(dir, 'site');
  mkdirSync(join(root, 'private'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<h1>public</h1>');
  writeFileSync(join(root, 'private', 'index.html'), '<h1>members only</h1>');
  const [idPort, sitePort] = [await freePort(), await freePort()];
  const idOrigin = `http://localhost:${idPort}`;
  const siteOrigin = `http://127.0.0.1:${sitePort}`;
  const postgres: TestPostgres = await createTestPostgres();
  const redis: Redis = await connectTestRedis();
  const keyPrefix = testRedisPrefix();
  const cleanups: (() => Promise<void>)[] = [];

  const instance = <T>(server: T, port: number, close: () => Promise<void>): Instance<T> => {
    const self: Instance<T> = {
      server, port, served: 0, running: true,
      async stop() {
        if (!self.running) return;
        self.running = false;
        await close();
      },
    };
    return self;
  };

  try {
    const ids: Instance<IdApp>[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const config = loadIdConfig({ env: {
        APP_URL: idOrigin, HOST: '127.0.0.1', PORT: String(port), DB_CONNECTION_STRING: postgres.url,
        ENCRYPTION_KEY, LOG_LEVEL: 'error', REDIS_URL, REDIS_KEY_PREFIX: `${keyPrefix}ephemeral:`,
      } });
      const app = await createIdApp(config, { logger: false });
      const id = instance(app, port, () => app.close());
      cleanups.push(() => id.stop());
      await app.listen();
      app.app.server.on('request', () => { id.served++; });
      ids.push(id);
    }

    const { client, secret } = await ids[0].server.services.clients.create({
      name: 'site proxy', unrestricted: true, redirectUris: [`${siteOrigin}/oauth2/callback`], backchannelLogoutUri: `${siteOrigin}/oauth2/backchannel-logout`,
    });
    const proxyConfig = proxyConfigFixture({
      oidcIssuerUrl: idOrigin, clientId: client.id, clientSecret: secret!, redirectUrl: `${siteOrigin}/oauth2/callback`,
      sessionStoreType: 'redis', redisConnectionUrl: REDIS_URL, setXAuthRequest: true, logLevel: 'error',
    });
    const proxies: Instance<ProxyServer>[] = [];
    for (let i = 0; i < 2; i++) {
      const server = await createProxyServer(proxyConfig, { redisKeyPrefix: `${keyPrefix}proxy:` });
      const listening = await server.listen();
      if (listening.transport !== 'tcp') throw new Error('the scale-out proxies listen on TCP');
      const proxy = instance(server, listening.port, () => server.close());
      cleanups.push(() => proxy.stop());
      server.app.server.on('request', () => { proxy.served++; });
      proxies.push(proxy);
    }

    writeNginxConf(dir, nginxSite({ idPort, sitePort, idPorts: ids.map((i) => i.port), proxyPorts: proxies.map((p) => p.port), root }));
    const nginx = await startNginx(dir, sitePort);
    cleanups.unshift(() => nginx.stop());
    await Promise.all(proxies.map((proxy) => proxy.server.runtime.oidc.discover()));

    return {
      idOrigin, siteOrigin, ids, proxies, clientId: client.id,
      async close() {
        for (const cleanup of cleanups) await cleanup();
        await deleteRedisKeys(redis, keyPrefix);
        redis.disconnect();
        await postgres.drop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    redis.disconnect();
    await postgres.drop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
