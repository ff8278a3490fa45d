// When the proxy cannot load the provider's discovery, its warning says why and where it looked.
// It used to log only reason "fetch failed", the same for a name that does not resolve (the usual
// state of a migration before DNS points at the new host), a port where nothing listens and a
// certificate from an unknown authority.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogDestination } from '../../src/app/logger.ts';
import { createLogger } from '../../src/app/logger.ts';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createProxyServer } from '../../src/proxy/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { guideProxyArgv } from '../helpers/guide-proxy.ts';

function capture(): LogDestination & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write(line: string) { lines.push(line); } };
}

async function firstDiscoveryWarning(issuerUrl: string, internalUrl?: string): Promise<Record<string, unknown>> {
  const log = capture();
  const argv = guideProxyArgv({ issuerUrl, siteUrl: 'http://127.0.0.1:9', clientSecret: 'x'.repeat(20), port: 0, idInternalUrl: internalUrl, extraFlags: ['--log-level=info'] });
  const proxy = await createProxyServer(loadProxyConfig({ argv, env: {} }), { loggerInstance: createLogger('info', true, log) });
  try {
    await proxy.listen();
    for (let i = 0; i < 100; i++) {
      const line = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith('provider discovery failed'));
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no discovery warning logged: ${log.lines.join('')}`);
  } finally {
    await proxy.close();
  }
}

describe('proxy: a failed provider discovery is logged with its cause', () => {
  it('names the refused connection and the issuer', async () => {
    const closed = await freePort();
    const line = await firstDiscoveryWarning(`http://localhost:${closed}`);
    assert.match(String(line.reason), new RegExp(`^fetch failed: connect ECONNREFUSED (127\\.0\\.0\\.1|::1):${closed}`));
    assert.equal(line.issuer, `http://localhost:${closed}`);
    assert.equal(line.internalUrl, undefined);
  });

  it('names --oidc-internal-url when discovery goes there', async () => {
    const closed = await freePort();
    const line = await firstDiscoveryWarning('https://id.example', `http://127.0.0.1:${closed}`);
    assert.match(String(line.reason), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closed}`));
    assert.equal(line.issuer, 'https://id.example');
    assert.equal(line.internalUrl, `http://127.0.0.1:${closed}`);
  });
});
