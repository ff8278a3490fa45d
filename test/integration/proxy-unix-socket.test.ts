// `latchkey proxy --http-address=unix:///…` and `fd:N`: the socket's life cycle (created with its
// mode, never stolen from a live process, replaced when stale, never deleting another file,
// removed on shutdown) and a unix-socket peer trusted for X-Forwarded-* exactly as loopback is.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, requireTool } from '../helpers/deploy-tools.ts';
import { proxyFlags, sessionCookie, socketRequest, spawnProxy } from '../helpers/socket-proxy.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-socket-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const socketPath = () => join(dir, `proxy-${++count}.sock`);
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 20));
const modeOf = (path: string) => (lstatSync(path).mode & 0o777).toString(8);

/** A sign-in page request whose return address is valid only if X-Forwarded-Host is believed. */
const forwardedSignIn = { 'x-forwarded-host': 'site.example', 'x-forwarded-proto': 'https', 'x-auth-request-redirect': 'https://site.example/private/a' };
const returnAddressOf = (body: string) => /name="rd" value="([^"]*)"/.exec(body)?.[1];

describe('latchkey proxy on a unix socket', () => {
  it('creates the socket with mode 0660, says so at start, answers on it and removes it on shutdown', async () => {
    const path = socketPath();
    const proxy = spawnProxy(proxyFlags(`unix://${path}`));
    assert.equal(await proxy.listeningOn, `unix://${path}`);
    assert.ok(lstatSync(path).isSocket());
    assert.equal(modeOf(path), '660');
    assert.equal((await socketRequest(path, '/ping')).status, 200);
    assert.equal(await proxy.stop(), 0);
    assert.equal(existsSync(path), false, 'the socket is left behind');
  });

  it('sets the mode given with oauth2-proxy\'s ,mode= suffix', async () => {
    const path = socketPath();
    const proxy = spawnProxy(proxyFlags(`unix://${path},mode=0600`));
    await proxy.listeningOn;
    assert.equal(modeOf(path), '600');
    await proxy.stop();
  });

  it('answers /oauth2/auth over the socket: 202 with a session (and its identity), 401 without', async () => {
    const path = socketPath();
    const proxy = spawnProxy(proxyFlags(`unix://${path}`, ['--cookie-secure=false']));
    await proxy.listeningOn;
    const allowed = await socketRequest(path, '/oauth2/auth', { cookie: sessionCookie({ sub: 'alice', email: 'alice@example.com' }), 'x-auth-request-user': 'mallory' });
    assert.equal(allowed.status, 202);
    assert.equal(allowed.headers['x-auth-request-user'], 'alice');
    assert.equal(allowed.headers['x-auth-request-email'], 'alice@example.com');
    const refused = await socketRequest(path, '/oauth2/auth', { 'x-auth-request-user': 'mallory', 'x-forwarded-user': 'mallory' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['x-auth-request-user'], undefined);
    await proxy.stop();
  });

  it('refuses to start on a socket another process listens on, and leaves that one answering', async () => {
    const path = socketPath();
    const first = spawnProxy(proxyFlags(`unix://${path}`));
    await first.listeningOn;
    const second = spawnProxy(proxyFlags(`unix://${path}`));
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /--http-address \/ OAUTH2_PROXY_HTTP_ADDRESS: another process is listening on .*proxy-\d+\.sock/);
    assert.equal((await socketRequest(path, '/ping')).status, 200);
    assert.equal(await first.stop(), 0);
  });

  it('replaces the stale socket of a proxy that was killed', async () => {
    const path = socketPath();
    const killed = spawnProxy(proxyFlags(`unix://${path}`));
    await killed.listeningOn;
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.ok(lstatSync(path).isSocket(), 'a killed proxy cannot remove its socket');
    const next = spawnProxy(proxyFlags(`unix://${path}`));
    assert.equal(await next.listeningOn, `unix://${path}`);
    assert.equal((await socketRequest(path, '/ping')).status, 200);
    await next.stop();
  });

  it('refuses a path that is not a socket, and does not delete it', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'keep me');
    const proxy = spawnProxy(proxyFlags(`unix://${path}`));
    assert.equal(await proxy.exited, 1);
    assert.match(proxy.output(), /notes\.txt exists and is not a socket; latchkey never deletes such a file/);
    assert.equal(readFileSync(path, 'utf8'), 'keep me');
  });

  it('says which folder is missing', async () => {
    const proxy = spawnProxy(proxyFlags(`unix://${join(dir, 'missing', 'proxy.sock')}`));
    assert.equal(await proxy.exited, 1);
    assert.match(proxy.output(), /the folder of .*missing\/proxy\.sock does not exist/);
  });

  it('believes X-Forwarded-* from a peer on the socket with --reverse-proxy, as from loopback', async () => {
    const path = socketPath();
    const proxy = spawnProxy(proxyFlags(`unix://${path}`, ['--reverse-proxy=true']));
    await proxy.listeningOn;
    assert.equal(returnAddressOf((await socketRequest(path, '/oauth2/sign_in', forwardedSignIn)).body), 'https://site.example/private/a');
    await proxy.stop();
  });

  it('ignores them when --trusted-proxy-ip leaves loopback out, or without --reverse-proxy', async () => {
    for (const flags of [['--reverse-proxy=true', '--trusted-proxy-ip=10.0.0.5'], []]) {
      const path = socketPath();
      const proxy = spawnProxy(proxyFlags(`unix://${path}`, flags));
      await proxy.listeningOn;
      const page = (await socketRequest(path, '/oauth2/sign_in', forwardedSignIn)).body;
      assert.notEqual(returnAddressOf(page), 'https://site.example/private/a', flags.join(' '));
      await proxy.stop();
    }
  });
});

describe('latchkey proxy on a socket passed as fd:3 (systemd socket activation)', () => {
  // systemd-socket-activate does what a .socket unit does: it listens, then starts the program with
  // the socket as file descriptor 3 (LISTEN_FDS=1) once the first connection arrives.
  const activate = requireTool('systemd-socket-activate');

  it('serves on an inherited unix socket, trusts its peers as loopback, and leaves the socket to its owner', async () => {
    const path = socketPath();
    const proxy = spawnProxy(proxyFlags('fd:3', ['--reverse-proxy=true']), [activate, '--listen', path]);
    while (!existsSync(path) && proxy.child.exitCode === null) await pause();
    // the first connection starts the proxy; it waits in the socket's queue until then
    assert.equal((await socketRequest(path, '/ping')).status, 200);
    assert.equal(await proxy.listeningOn, 'fd:3');
    assert.equal(returnAddressOf((await socketRequest(path, '/oauth2/sign_in', forwardedSignIn)).body), 'https://site.example/private/a');
    assert.equal(await proxy.stop(), 0);
    assert.ok(lstatSync(path).isSocket(), 'an inherited socket belongs to whoever created it');
  });

  it('serves on an inherited TCP socket and shows its address', async () => {
    const port = await freePort();
    const proxy = spawnProxy(proxyFlags('fd:3'), [activate, '--listen', `127.0.0.1:${port}`]);
    let answer: Response | null = null;
    while (!answer && proxy.child.exitCode === null) answer = await fetch(`http://127.0.0.1:${port}/ping`).catch(() => pause().then(() => null));
    assert.equal(answer?.status, 200, proxy.output());
    await proxy.listeningOn;
    assert.match(proxy.output(), new RegExp(`latchkey proxy listening on http://127\\.0\\.0\\.1:${port} \\(inherited as fd:3\\)`));
    await proxy.stop();
  });

  it('refuses to start when nothing was passed as that descriptor', async () => {
    const proxy = spawnProxy(proxyFlags('fd:3'));
    assert.equal(await proxy.exited, 1);
    assert.match(proxy.output(), /file descriptor 3 is not (open|a socket); fd:3 needs a listening socket passed by systemd/);
  });
});
