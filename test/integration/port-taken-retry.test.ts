// freePort() cannot hold a port: between choosing it and starting nginx, Caddy or Apache on it,
// another test's server can take it. Each starter then fails with PortTakenError, and
// onFreshPorts() starts again on fresh ports; any other failure is not retried. Here a plain net
// server (one that answers, as another test's server would) holds the port of the first attempt.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApache } from '../helpers/apache.ts';
import { startCaddy } from '../helpers/caddy.ts';
import { startNginx, writeNginxConf } from '../helpers/deploy-tools.ts';
import { freePort, onFreshPorts, PortTakenError } from '../helpers/free-port.ts';

const nginxSite = (port: number) => `server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "nginx on ${port}\\n"; }\n}\n`;
/** A fresh folder under `parent` for one server. */
const folder = (parent: string, name: string) => {
  mkdirSync(join(parent, name));
  return join(parent, name);
};
const caddySite = (port: number) => `{\n\tadmin off\n}\n:${port} {\n\tbind 127.0.0.1\n\trespond "caddy on ${port}"\n}\n`;

describe('a server started on a port that another process took in between', () => {
  let dir: string;
  let occupier: Server;
  let taken: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-port-taken-'));
    occupier = createServer((socket) => {
      socket.on('error', () => {}); // the starters' port checks hang up at once
      socket.end('someone else\n');
    });
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    taken = (occupier.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => occupier?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The taken port for the first attempt, fresh ones after; records every port tried. */
  function portsFromTaken() {
    const tried: number[] = [];
    const pick = async (attempt: number) => {
      const port = attempt === 1 ? taken : await freePort();
      tried.push(port);
      return port;
    };
    return { tried, pick };
  }

  it('nginx fails with PortTakenError, though the port answers', async () => {
    const nginxDir = join(dir, 'nginx-once');
    writeNginxConf(nginxDir, nginxSite(taken));
    await assert.rejects(startNginx(nginxDir, taken), (error) => error instanceof PortTakenError && /Address already in use/.test(error.message));
  });

  it('Caddy fails with PortTakenError, though the port answers', async () => {
    await assert.rejects(startCaddy(folder(dir, 'caddy-once'), caddySite(taken), taken), (error) => error instanceof PortTakenError && /address already in use/.test(error.message));
  });

  it('Apache fails with PortTakenError, though the port answers', async () => {
    const options = { port: taken, issuer: 'http://127.0.0.1:9', clientId: 'c', secret: 's', privateFiles: {} };
    await assert.rejects(startApache(options), (error) => error instanceof PortTakenError && /Address already in use/.test(error.message));
  });

  it('starts nginx on the second attempt, on a fresh port', async () => {
    const { tried, pick } = portsFromTaken();
    const nginxDir = join(dir, 'nginx');
    const { port, nginx } = await onFreshPorts(3, async (attempt) => {
      const port = await pick(attempt);
      writeNginxConf(nginxDir, nginxSite(port));
      return { port, nginx: await startNginx(nginxDir, port) };
    });
    try {
      assert.deepEqual(tried, [taken, port]);
      assert.notEqual(port, taken);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `nginx on ${port}\n`);
    } finally {
      await nginx.stop();
    }
  });

  it('starts Caddy on the second attempt, on a fresh port', async () => {
    const { tried, pick } = portsFromTaken();
    const { port, caddy } = await onFreshPorts(3, async (attempt) => {
      const port = await pick(attempt);
      return { port, caddy: await startCaddy(folder(dir, `caddy-${attempt}`), caddySite(port), port) };
    });
    try {
      assert.deepEqual(tried, [taken, port]);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `caddy on ${port}`);
    } finally {
      await caddy.stop();
    }
  });

  it('starts Apache on the second attempt, on a fresh port', async () => {
    const { tried, pick } = portsFromTaken();
    const apache = await onFreshPorts(3, async (attempt) =>
      startApache({ port: await pick(attempt), issuer: 'http://127.0.0.1:9', clientId: 'c', secret: 's', privateFiles: {} }));
    try {
      assert.equal(tried.length, 2);
      assert.equal(tried[0], taken);
      assert.equal(apache.url, `http://localhost:${tried[1]}`);
      const answer = await fetch(`http://127.0.0.1:${tried[1]}/`);
      assert.match(answer.headers.get('server') ?? '', /Apache/);
    } finally {
      await apache.close();
    }
  });

  it('gives up after the attempts it was given, with the last PortTakenError', async () => {
    let calls = 0;
    const always = onFreshPorts(3, async () => {
      calls++;
      throw new PortTakenError(`port taken, time ${calls}`);
    });
    await assert.rejects(always, (error) => error instanceof PortTakenError && error.message === 'port taken, time 3');
    assert.equal(calls, 3);
  });

  it('does not retry nginx failing for another reason, and says why', async () => {
    let calls = 0;
    const nginxDir = join(dir, 'nginx-broken');
    const broken = onFreshPorts(3, async () => {
      calls++;
      const port = await freePort();
      writeNginxConf(nginxDir, `server {\n    listen 127.0.0.1:${port};\n    no_such_directive on;\n}\n`);
      return startNginx(nginxDir, port);
    });
    await assert.rejects(broken, (error) => !(error instanceof PortTakenError) && /unknown directive "no_such_directive"/.test((error as Error).message));
    assert.equal(calls, 1);
  });

  it('does not retry any other error', async () => {
    let calls = 0;
    const failing = onFreshPorts(3, async () => {
      calls++;
      throw new Error('the certificate is missing');
    });
    await assert.rejects(failing, /the certificate is missing/);
    assert.equal(calls, 1);
  });
});
