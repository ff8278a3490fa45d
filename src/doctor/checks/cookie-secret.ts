import { existsSync, readFileSync } from 'node:fs';
import { decodeCookieSecret } from '../../config/cookie-secret.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';

// `openssl rand -base64 32` (the guide's command) prints standard base64 with + and /. latchkey
// decodes it; oauth2-proxy does not (it falls back to the raw 44 bytes and refuses to start), so
// the same secret would break a switch back.
export const cookieSecret: Check = {
  id: 'cookie-secret',
  title: 'The cookie secret works in latchkey and in oauth2-proxy alike',
  run(ctx) {
    if (!ctx.proxy) return skip('no proxy options given (--proxy-args …, --proxy-config FILE or --compose)');
    let text = ctx.proxy.raw.get('cookie-secret');
    let from = '--cookie-secret';
    const file = ctx.proxy.raw.get('cookie-secret-file');
    if (text === undefined && typeof file === 'string') {
      if (!existsSync(file)) return skip(`the cookie secret is in ${file}, which is not readable here (inside the container?)`);
      text = readFileSync(file, 'utf8').trim();
      from = file;
    }
    if (typeof text !== 'string') return fail('no cookie secret is set: the proxy refuses to start', '--cookie-secret-file=FILE with: openssl rand -base64 32 | tr -- \'+/\' \'-_\' > FILE');
    const decoded = decodeCookieSecret(text);
    if ('problem' in decoded) return fail(`the cookie secret (${from}) ${decoded.problem}`, "openssl rand -base64 32 | tr -- '+/' '-_'");
    if (/[+/]/.test(text))
      return warn(`the cookie secret (${from}) is standard base64 with "+" or "/": latchkey decodes it to ${decoded.bytes.length} bytes, but oauth2-proxy would refuse to start with it`,
        "use a URL-safe one: openssl rand -base64 32 | tr -- '+/' '-_' (every signed-in visitor signs in again once)");
    return ok(`${decoded.bytes.length}-byte key, readable by latchkey and oauth2-proxy`);
  },
};
