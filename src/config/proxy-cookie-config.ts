import { readFileSync } from 'node:fs';
import type { ProxyConfig, SameSite } from '../proxy/config.ts';
import { decodeCookieSecret } from './cookie-secret.ts';
import type { ProxyValues } from './proxy-values.ts';

// RFC 6265 §4.1.1: a cookie name is a token (no separators, no controls)
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAME_SITE: readonly string[] = ['', 'lax', 'strict', 'none'];

export function readCookieConfig(values: ProxyValues): ProxyConfig['cookie'] {
  const name = values.string('cookie-name') ?? '';
  if (!COOKIE_NAME.test(name) || name.length > 256) values.problem('cookie-name', `"${name}" is not a valid cookie name`);
  const secure = values.bool('cookie-secure');
  const path = values.string('cookie-path') ?? '/';
  if (!path.startsWith('/')) values.problem('cookie-path', `must start with /, got "${path}"`);
  const domains = values.list('cookie-domain').map((domain) => domain.toLowerCase());

  // Browsers drop cookies that break their prefix's rules (RFC 6265bis §4.1.3), so say it now
  if (name.startsWith('__Host-') && (!secure || path !== '/' || domains.length > 0)) {
    values.problem('cookie-name', 'a __Host- cookie needs --cookie-secure=true, --cookie-path=/ and no --cookie-domain');
  } else if (name.startsWith('__Secure-') && !secure) {
    values.problem('cookie-name', 'a __Secure- cookie needs --cookie-secure=true');
  }

  const sameSite = (values.string('cookie-samesite') ?? '').toLowerCase();
  if (!SAME_SITE.includes(sameSite)) values.problem('cookie-samesite', `must be lax, strict, none or "", got "${sameSite}"`);
  if (sameSite === 'none' && !secure) values.problem('cookie-samesite', 'SameSite=None needs --cookie-secure=true (browsers drop the cookie otherwise)');

  const expireSeconds = values.durationSeconds('cookie-expire', true);
  // oauth2-proxy reads 0 as "a browser-session cookie". Here a session ends expireSeconds after
  // sign-in, and back-channel logouts are remembered that long, so 0 would sign nobody in.
  if (expireSeconds === 0) values.problem('cookie-expire', '0 (a browser-session cookie) is not supported by latchkey; give the session a lifetime such as 168h or 12h');
  const refreshSeconds = values.durationSeconds('cookie-refresh', true);
  // oauth2-proxy's rule: refreshing after the session has already expired is a mistake
  if (expireSeconds !== 0 && refreshSeconds >= expireSeconds) {
    values.problem('cookie-refresh', `must be less than --cookie-expire (${refreshSeconds}s ≥ ${expireSeconds}s)`);
  }

  return {
    name,
    secret: readCookieSecret(values),
    secure,
    domains,
    path,
    expireSeconds,
    refreshSeconds,
    sameSite: (SAME_SITE.includes(sameSite) ? sameSite : '') as SameSite,
    httpOnly: values.bool('cookie-httponly'),
    csrfPerRequest: values.bool('cookie-csrf-per-request'),
    csrfExpireSeconds: values.durationSeconds('cookie-csrf-expire', false),
  };
}

function readCookieSecret(values: ProxyValues): Buffer {
  const direct = values.string('cookie-secret');
  const file = values.string('cookie-secret-file');
  let text: string | undefined = direct;
  let from = 'cookie-secret';
  if (direct !== undefined && file !== undefined) {
    values.problem('cookie-secret', 'and --cookie-secret-file are both set; keep one');
  } else if (file !== undefined) {
    from = 'cookie-secret-file';
    try {
      // trimmed, unlike oauth2-proxy: the newline `echo` or an editor leaves would change the length
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      values.problem('cookie-secret-file', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      text = undefined;
    }
  } else if (direct === undefined) {
    values.problem('cookie-secret', 'required (or --cookie-secret-file); generate one with: openssl rand -base64 32');
  }
  if (text === undefined) return Buffer.alloc(0);
  const decoded = decodeCookieSecret(text);
  if ('problem' in decoded) {
    values.problem(from, decoded.problem);
    return Buffer.alloc(0);
  }
  return decoded.bytes;
}
