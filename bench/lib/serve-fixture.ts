// A real `latchkey serve` process for the benchmarks, and sign-ins against it over HTTP exactly as
// a browser makes them (test/helpers/id-browser.ts: cookie jar, software passkey, the pages' own
// requests). No hook in the product: the first admin comes from the setup link serve prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idBrowser } from '../../test/helpers/id-browser.ts';
import { type Browser, type SignInTimings, signInWithPasskey } from './passkey-sign-in.ts';
import { freePort, removeAtExit, repoRoot } from './processes.ts';

export type { Browser, SignInTimings };

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

export async function startServeProcess(options: { site: string; entry: string; nodeArgs?: string[]; protect?: string[]; env?: Record<string, string> }): Promise<ServeProcess> {
  const [sitePort, idPort] = [await freePort(), await freePort()];
  const siteOrigin = `http://localhost:${sitePort}`;
  const idOrigin = `http://localhost:${idPort}`;
  const data = removeAtExit(mkdtempSync(join(tmpdir(), 'latchkey-bench-serve-')));
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), [...(options.nodeArgs ?? []), options.entry, 'serve', '--site', options.site,
    '--url', siteOrigin, '--id-url', idOrigin, '--listen', `127.0.0.1:${sitePort}`, '--id-listen', `127.0.0.1:${idPort}`, '--data', data,
    ...(options.protect ?? ['/private/']).flatMap((p) => ['--protect', p])], { env: { ...process.env, LOG_LEVEL: 'info',
      // every sign-in of a benchmark comes from 127.0.0.1: the per-address limit would refuse the 61st a minute
      AUTHORIZE_REQUESTS_PER_MINUTE: '0', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The first admin: setup link, account, passkey; returns their browser (signed in to the provider only). */
export async function createFirstAdmin(serve: ServeProcess): Promise<Browser> {
  // A passkey that keeps no signature counter, as synced passkeys (iCloud, Google) do: bench/memory.ts
  // signs in with it from several browsers at once, and a counting one's assertions could reach the
  // server out of order, which it refuses as a possible copy (webauthn/passkey-store.ts).
  const alice = idBrowser(serve.idOrigin, 'ES256', { signCounter: 'zero' });
  await alice.page(`/setup?token=${serve.setupToken}`);
  const created = await alice.form('/setup', { token: serve.setupToken, username: 'alice', email: 'alice@example.com', firstName: 'Alice', lastName: '' });
  if (created.status !== 303) throw new Error(`setup answered ${created.status}`);
  await alice.page('/account?welcome=1');
  const registered = await alice.registerPasskey('Bench');
  if (registered.response.status !== 200) throw new Error(`passkey registration answered ${registered.response.status}`);
  return alice;
}

/**
 * A full sign-in of a fresh browser (new cookie jar) that holds `owner`'s passkey: /private/ →
 * provider's sign-in page → passkey → back through the OIDC flow → /private/ with a session.
 * Returns the site's Cookie header and the server time of the three steps that do real work.
 */
export function signIn(serve: ServeProcess, owner: Browser): Promise<{ cookie: string; timings: SignInTimings }> {
  return signInWithPasskey({ siteOrigin: serve.siteOrigin, idOrigin: serve.idOrigin, startPath: '/private/', check: { path: '/private/', status: 200 } },
    owner.authenticator, () => serve.log().slice(-1500));
}
