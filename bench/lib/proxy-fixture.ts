// What a benchmark of `latchkey proxy` needs besides the proxy: a provider that answers discovery
// (all the proxy asks of it at start), the proxy's flags, and a valid session cookie.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { repoRoot } from './processes.ts';

export { startDiscoveryStub } from '../../test/helpers/discovery-stub.ts';

/**
 * `latchkey proxy` as the benchmarks run it: oauth2-proxy's flags for nginx auth_request, on
 * 127.0.0.1:`port` or, with `socket`, on that unix socket (mode 0666: the bench's nginx workers
 * run as nobody; `latchkey generate systemd --proxy-socket` gives www-data alone access instead).
 */
export function proxyCommand(options: { issuer: string; port?: number; socket?: string; cookieSecret: Buffer; entry?: string }): string[] {
  const address = options.socket ? `unix://${options.socket},mode=0666` : `127.0.0.1:${options.port}`;
  return [options.entry ?? join(repoRoot, 'src/main.ts'), 'proxy', '--provider=oidc', '--client-id=bench', '--client-secret=bench-secret',
    `--oidc-issuer-url=${options.issuer}`, '--redirect-url=http://localhost/oauth2/callback', `--cookie-secret=${options.cookieSecret.toString('base64url')}`,
    '--email-domain=*', '--upstream=static://202', `--http-address=${address}`, '--cookie-secure=false', '--set-xauthrequest', '--log-level=warn'];
}

/** A real session cookie, sealed exactly as a sign-in would seal it; the ID token is of realistic size. */
export function sealedSessionCookie(cookieSecret: Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const fakeJwt = (bytes: number) => `${randomBytes(36).toString('base64url')}.${randomBytes(bytes).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
  const [cookieLine] = createCookieCodec('_oauth2_proxy', cookieSecret).write({
    sub: 'user-123', email: 'alice@example.com', emailVerified: true, preferredUsername: 'alice', groups: ['family', 'friends'],
    idToken: fakeJwt(400), accessToken: randomBytes(32).toString('base64url'), refreshToken: randomBytes(32).toString('base64url'),
    sid: 'sid-1', createdAt: now, expiresAt: now + 7 * 86400, refreshAt: 0,
  }, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: 'lax' }, 7 * 86400, Date.now(), new Map());
  return cookieLine.split(';')[0];
}
