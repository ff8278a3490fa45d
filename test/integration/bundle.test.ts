// `npm run build` (scripts/build.ts): the bundle in dist/ is what bin/latchkey runs in production,
// so it must behave as the sources do: the proxy starts from oauth2-proxy flags and answers its
// endpoints, a file that reads a neighbour at run time (the version, from package.json) finds it,
// and `latchkey serve` signs a browser in end to end (passkey, OIDC code exchange, session cookie).
// Also what keeps memory down (docs/benchmarks.md, "Memory"): every chunk is Latin-1 (V8 then keeps
// its source one byte per character), and what each server loads at start leaves out what it only
// needs later or never.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { modulesLoadedAtStart, packageOf } from '../../bench/lib/chunk-sizes.ts';
import { createFirstAdmin, signIn, startServeProcess } from '../../bench/lib/serve-fixture.ts';
import { CookieJar, loginAtProvider, startReferenceProvider } from '../helpers/reference-provider.ts';
import { freePort } from '../../bench/lib/processes.ts';
import { proxyReadyUrl } from '../helpers/proxy-process.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = `${root}node_modules/.bin/node`;

// What a bundled process has loaded of Node's own modules: on SIGUSR2 a preload writes
// process.moduleLoadList to the file named in MODULE_LIST_ENV.
const MODULE_LIST_ENV = 'LATCHKEY_TEST_MODULE_LIST';
const moduleReporter = `data:text/javascript,process.on('SIGUSR2',()=>process.getBuiltinModule('node:fs').writeFileSync(process.env.${MODULE_LIST_ENV},process.moduleLoadList.join('\\n')))`;
const reportModules = ['--import', moduleReporter];

async function loadedModules(child: ChildProcess, file: string): Promise<string[]> {
  child.kill('SIGUSR2');
  for (let waited = 0; waited < 5000; waited += 50) {
    if (existsSync(file)) return readFileSync(file, 'utf8').split('\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no module list in ${file}`);
}

describe('the production bundle (scripts/build.ts)', () => {
  let outdir: string;
  before(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'latchkey-bundle-'));
    execFileSync(node, ['scripts/build.ts', '--outdir', outdir, '--metafile', join(outdir, 'meta.json')], { cwd: root, stdio: 'pipe' });
  });
  after(async () => {
    rmSync(outdir, { recursive: true, force: true });
  });

  it('is Latin-1 throughout, so V8 keeps every chunk\'s source one byte per character', () => {
    const chunks = readdirSync(outdir).filter((file) => file.endsWith('.js'));
    assert.ok(chunks.length > 10);
    for (const file of chunks) assert.doesNotMatch(readFileSync(join(outdir, file), 'utf8'), /[^\u0000-\u00ff]/, file);
  });

  it('loads at start only what each server needs then', () => {
    const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8'));
    const packagesAtStart = (command: string) => new Set([...modulesLoadedAtStart(meta, command).keys()].map(packageOf));
    const proxy = packagesAtStart('proxy');
    const serve = packagesAtStart('serve');
    assert.ok(proxy.has('fastify') && serve.has('oidc-provider'));
    // The proxy never touches a database; serve loads pg, ioredis and the passkey library when it first needs them.
    for (const unneeded of ['kysely', 'pg', 'ioredis', 'oidc-provider', '@simplewebauthn/server', 'src/storage']) assert.ok(!proxy.has(unneeded), `proxy loads ${unneeded}`);
    for (const later of ['pg', 'ioredis', '@simplewebauthn/server', '@peculiar/x509']) assert.ok(!serve.has(later), `serve loads ${later} at start`);
  });

  it('prints the version read from package.json', () => {
    assert.match(execFileSync(node, [join(outdir, 'main.js'), 'version'], { encoding: 'utf8' }), /^latchkey \d+\.\d+\.\d+/);
  });

  it('runs latchkey proxy: ready after discovery, refuses a visitor without a session, signs one in, and never loads undici or TLS', async () => {
    const port = await freePort();
    const proxyUrl = `http://127.0.0.1:${port}`;
    const provider = await startReferenceProvider({ clientId: 'bundle-client', clientSecret: 'bundle-secret', redirectUris: [`${proxyUrl}/oauth2/callback`] });
    after(() => provider.close());
    const child = spawn(node, [...reportModules, join(outdir, 'main.js'), 'proxy', '--provider=oidc', '--client-id=bundle-client', '--client-secret=bundle-secret',
      `--oidc-issuer-url=${provider.issuer}`, `--cookie-secret=${randomBytes(32).toString('base64url')}`, '--email-domain=*',
      `--http-address=127.0.0.1:${port}`, `--redirect-url=${proxyUrl}/oauth2/callback`, '--upstream=static://202', '--cookie-secure=false'],
    { cwd: root, env: { ...process.env, [MODULE_LIST_ENV]: join(outdir, 'proxy-modules.txt') } });
    after(() => child.kill('SIGKILL'));
    await proxyReadyUrl(child);
    const auth = await fetch(`${proxyUrl}/oauth2/auth`);
    assert.equal(auth.status, 401);
    assert.equal(auth.headers.get('cache-control'), 'no-store');
    const signInPage = await fetch(`${proxyUrl}/oauth2/sign_in`, { headers: { accept: 'text/html' } });
    assert.equal(signInPage.status, 200);
    assert.match(await signInPage.text(), /<html/i);

    // A whole sign-in: discovery, code exchange, ID token and JWKS, all through the bundled openid-client and jose.
    const jar = new CookieJar();
    const start = await jar.fetch(`${proxyUrl}/oauth2/start`);
    const callbackUrl = await loginAtProvider(jar, start.headers.get('location')!, 'ada', `${proxyUrl}/oauth2/callback`);
    assert.equal((await jar.fetch(callbackUrl)).status, 302);
    assert.equal((await jar.fetch(`${proxyUrl}/oauth2/auth`)).status, 202);
    // The bundle gives openid-client, oauth4webapi and jose Headers and Response without undici, and
    // loads node:https only for an https URL (scripts/bundle-plugins.ts, src/core/node-https.ts; docs/benchmarks.md, levers 23-24).
    const loaded = await loadedModules(child, join(outdir, 'proxy-modules.txt'));
    assert.ok(loaded.includes('NativeModule http'), 'the report lists what was loaded');
    for (const absent of ['NativeModule internal/deps/undici/undici', 'NativeModule tls', 'NativeModule http2']) assert.ok(!loaded.includes(absent), `${absent} was loaded`);
    // Nor what packages and ES module namespaces would load for nothing (scripts/bundle-plugins.ts: lazyRequiredBuiltins, builtinsWithoutNamespace).
    for (const absent of ['assert', 'perf_hooks', 'worker_threads', 'internal/fs/promises', 'internal/readline/interface', 'internal/util/diff']) {
      assert.ok(!loaded.includes(`NativeModule ${absent}`), `${absent} was loaded`);
    }
  });

  it('runs latchkey serve: the first admin registers a passkey, a second browser signs in with it and reads /private/', async () => {
    const serve = await startServeProcess({ site: join(root, 'demo/public'), entry: join(outdir, 'main.js'), nodeArgs: reportModules, env: { [MODULE_LIST_ENV]: join(outdir, 'serve-modules.txt') } });
    after(() => serve.child.kill('SIGKILL'));
    const admin = await createFirstAdmin(serve);
    const { cookie } = await signIn(serve, admin); // throws unless the callback answers 302 and /private/ 200
    assert.match(cookie, /_oauth2_proxy=/);
    assert.equal((await fetch(new URL('/assets/style.css', serve.idOrigin))).status, 200);
    const loaded = await loadedModules(serve.child, join(outdir, 'serve-modules.txt'));
    for (const absent of ['NativeModule internal/deps/undici/undici', 'NativeModule tls']) assert.ok(!loaded.includes(absent), `${absent} was loaded`);
    for (const absent of ['worker_threads', 'internal/util/diff']) assert.ok(!loaded.includes(`NativeModule ${absent}`), `${absent} was loaded`);
  });
});
