// `latchkey proxy` as a child process listening on a unix socket (or an inherited fd:N), a request
// helper that speaks HTTP over such a socket, and a provider that answers only discovery.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
export { startDiscoveryStub } from './discovery-stub.ts';

const MAIN = join(import.meta.dirname, '../../src/main.ts');

export const COOKIE_SECRET = randomBytes(32).toString('base64url');

/** Flags every spawned proxy shares; the issuer never resolves unless a test gives its own. */
export function proxyFlags(httpAddress: string, extra: string[] = [], issuer = 'https://id.example.invalid'): string[] {
  return ['proxy', `--http-address=${httpAddress}`, '--client-id=site', '--client-secret=not-used', `--cookie-secret=${COOKIE_SECRET}`,
    `--oidc-issuer-url=${issuer}`, '--email-domain=*', '--upstream=static://202', '--set-xauthrequest=true', ...extra];
}

export interface SpawnedProxy {
  child: ChildProcessWithoutNullStreams;
  /** What the start-up line says it listens on (unix:///…, fd:3, http://…). */
  listeningOn: Promise<string>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM (a graceful shutdown) and wait for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `latchkey proxy` with `args` (from src/, as tests do); `wrapper` runs it through another
 * program first, e.g. systemd-socket-activate. The start-up line needs --log-level info (default).
 */
export function spawnProxy(args: string[], wrapper: string[] = [], env: Record<string, string> = {}): SpawnedProxy {
  const command = [...wrapper, process.execPath, MAIN, ...args];
  const child = spawn(command[0], command.slice(1), { stdio: 'pipe', env: { ...process.env, ...env } });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listeningOn = new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk;
      const match = /latchkey proxy listening on (\S+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => reject(new Error(`latchkey proxy exited ${code} before listening: ${output}`)));
  });
  listeningOn.catch(() => {}); // a test that expects the exit awaits `exited` instead
  return {
    child, listeningOn, exited, output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface SocketAnswer { status: number; headers: IncomingHttpHeaders; body: string }

/** One HTTP/1.1 request over the unix socket at `socketPath`. */
export function socketRequest(socketPath: string, path: string, headers: Record<string, string> = {}): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A session cookie the spawned proxies accept, sealed as a sign-in would seal it. */
export function sessionCookie(user: { sub: string; email: string; groups?: string[] }): string {
  const config = loadProxyConfig({ argv: proxyFlags('127.0.0.1:0').slice(1), env: {} });
  const now = Math.floor(Date.now() / 1000);
  const [line] = createCookieCodec(config.cookie.name, config.cookie.secret).write({
    sub: user.sub, email: user.email, emailVerified: true, preferredUsername: user.sub, groups: user.groups ?? [], idToken: 'h.p.s', accessToken: 'at', refreshToken: '',
    sid: 's1', createdAt: now - 10, expiresAt: now + 3600, refreshAt: 0,
  }, { domain: null, path: '/', secure: true, httpOnly: true, sameSite: 'lax' }, 3600, Date.now(), new Map());
  return line.split(';')[0];
}
