// A real `latchkey serve` process for the benchmarks, and sign-ins against it over HTTP exactly as
// a browser makes them (test/helpers/id-browser.ts: cookie jar, software passkey, the pages' own
// requests). No hook in the product: the first admin comes from the setup link serve prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idBrowser } from '../../test/helpers/id-browser.ts';
import { freePort, repoRoot } from './processes.ts';

export type Browser = ReturnType<typeof idBrowser>;

export interface ServeProcess {
  child: ChildProcess;
  siteOrigin: string;
  idOrigin: string;
  /** Start to "ready" as serve itself logs it (module loading included). */
  readyMs: number;
  setupToken: string;
  /** What serve logged so far (for error messages). */
  log(): string;
}

export async function startServeProcess(options: { site: string; entry: string; nodeArgs?: string[]; protect?: string[] }): Promise<ServeProcess> {
  const [sitePort, idPort] = [await freePort(), await freePort()];
  const siteOrigin = `http://localhost:${sitePort}`;
  const idOrigin = `http://localhost:${idPort}`;
  const data = mkdtempSync(join(tmpdir(), 'latchkey-bench-serve-'));
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), [...(options.nodeArgs ?? []), options.entry, 'serve', '--site', options.site,
    '--url', siteOrigin, '--id-url', idOrigin, '--listen', `127.0.0.1:${sitePort}`, '--id-listen', `127.0.0.1:${idPort}`, '--data', data,
    ...(options.protect ?? ['/private/']).flatMap((p) => ['--protect', p])], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.on('data', (chunk) => { out += chunk; });
  const { readyMs, setupToken } = await new Promise<{ readyMs: number; setupToken: string }>((resolve, reject) => {
    let readyMs = NaN;
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      readyMs = Number(/serve ready (\d+) ms/.exec(out)?.[1] ?? NaN);
      const token = /\/setup\?token=([\w-]+)/.exec(out)?.[1];
      if (token && Number.isFinite(readyMs)) resolve({ readyMs, setupToken: token });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`serve did not start: ${out.slice(-2000)}`)), 30_000).unref();
  });
  return { child, siteOrigin, idOrigin, readyMs, setupToken, log: () => out };
}

/** Follows a browser from a site address until it lands (200), or until the provider asks it to sign in. */
const visit = (serve: ServeProcess, browser: Browser, path: string) =>
  browser.jar.follow(new URL(path, serve.siteOrigin).href, (next) => !(next.origin === serve.idOrigin && next.pathname === '/login'));

/** The first admin: setup link, account, passkey; returns their browser (signed in to the provider only). */
export async function createFirstAdmin(serve: ServeProcess): Promise<Browser> {
  const alice = idBrowser(serve.idOrigin);
  await alice.page(`/setup?token=${serve.setupToken}`);
  const created = await alice.form('/setup', { token: serve.setupToken, username: 'alice', email: 'alice@example.com', firstName: 'Alice' });
  if (created.status !== 303) throw new Error(`setup answered ${created.status}`);
  await alice.page('/account?welcome=1');
  const registered = await alice.registerPasskey('Bench');
  if (registered.response.status !== 200) throw new Error(`passkey registration answered ${registered.response.status}`);
  return alice;
}

export interface SignInTimings {
  /** login/start: the WebAuthn options. */
  optionsMs: number;
  /** login/finish: the assertion checked, the provider's session made. */
  verifyMs: number;
  /** /oauth2/callback: code exchanged for tokens, ID token checked, session cookie sealed. */
  callbackMs: number;
}

/**
 * A full sign-in of a fresh browser (new cookie jar) that holds `owner`'s passkey: /private/ →
 * provider's sign-in page → passkey → back through the OIDC flow → /private/ with a session.
 * Returns the site's Cookie header and the server time of the three steps that do real work.
 */
export async function signIn(serve: ServeProcess, owner: Browser): Promise<{ cookie: string; timings: SignInTimings }> {
  const browser = idBrowser(serve.idOrigin);
  // The same passkey: a second browser of the same person.
  Object.assign(browser.authenticator, owner.authenticator);
  await visit(serve, browser, '/private/');
  await browser.page('/login');
  let started = performance.now();
  const start = await browser.json('/api/webauthn/login/start', {});
  const optionsMs = performance.now() - started;
  const assertion = await browser.authenticator.login(start.body.options as never);
  started = performance.now();
  const finish = await browser.json('/api/webauthn/login/finish', { flowId: start.body.flowId, response: assertion });
  const verifyMs = performance.now() - started;
  if (finish.response.status !== 200) throw new Error(`login/finish answered ${finish.response.status}: ${JSON.stringify(finish.body)}`);
  // Up to the callback (the provider's redirects), then the callback alone is timed.
  let callbackUrl = '';
  await browser.jar.follow(new URL('/private/', serve.siteOrigin).href, (next) => {
    if (next.pathname !== '/oauth2/callback') return true;
    callbackUrl = next.href;
    return false;
  });
  if (!callbackUrl) throw new Error('the sign-in did not reach the callback');
  started = performance.now();
  const callback = await browser.jar.fetch(callbackUrl);
  const callbackMs = performance.now() - started;
  const body = await callback.text();
  if (callback.status !== 302) throw new Error(`callback answered ${callback.status}: ${callbackUrl} ${/[^>]*Please[^<]*/.exec(body)?.[0]}\n${serve.log().slice(-1500)}`);
  const cookie = browser.jar.cookieHeader(new URL('/private/', serve.siteOrigin));
  const check = await fetch(new URL('/private/', serve.siteOrigin), { headers: { cookie } });
  if (check.status !== 200) throw new Error(`/private/ answered ${check.status} after sign-in`);
  return { cookie, timings: { optionsMs, verifyMs, callbackMs } };
}
