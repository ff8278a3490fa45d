// The address `latchkey id` reports at start is the one it bound. fastify lists 127.0.0.1 first for
// a server on 0.0.0.0, and the start-up line used to say "listening on http://127.0.0.1:1411" for
// the default HOST, which is every interface: an operator checking that the port is loopback-only
// (what TRUST_PROXY=true needs, the guide's container binding it to 127.0.0.1) was told it is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createIdApp } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { freePort } from '../helpers/free-port.ts';

async function listenedAddress(host: string): Promise<{ address: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-id-listen-'));
  const port = await freePort();
  const config = loadIdConfig({ env: {
    APP_URL: `http://localhost:${port}`, HOST: host, PORT: String(port), DB_CONNECTION_STRING: join(dir, 'latchkey.db'),
    ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'warn',
  } });
  const id = await createIdApp(config, { logger: false });
  try {
    const address = await id.listen();
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 204);
    return { address, port };
  } finally {
    await id.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('latchkey id listen address', () => {
  it('names every interface (0.0.0.0) when HOST is 0.0.0.0, the default', async () => {
    const { address, port } = await listenedAddress('0.0.0.0');
    assert.equal(address, `http://0.0.0.0:${port}`);
  });

  it('names loopback when HOST is 127.0.0.1', async () => {
    const { address, port } = await listenedAddress('127.0.0.1');
    assert.equal(address, `http://127.0.0.1:${port}`);
  });
});
