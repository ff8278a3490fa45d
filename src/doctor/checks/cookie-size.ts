import { randomBytes, randomUUID } from 'node:crypto';
import { type Check, fail, ok } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { argsOf, inherited, isProtected, matchLocation, parseSize, proxiesTo, servers, where, type Location } from '../nginx-config.ts';
import { createCookieCodec } from '../../proxy/cookie-codec.ts';
import type { Session } from '../../proxy/session.ts';

// Failure mode 2: the session cookie holds the ID token; nginx reads the proxy's answer headers
// into proxy_buffer_size (default one page, 4k) and the visitor's Cookie header into one of
// large_client_header_buffers (default 4 8k). Too small: "upstream sent too big header" (502) at
// the callback, or 400 "Request Header Or Cookie Too Large". The cookie is sized by encoding a
// representative session with the proxy's own codec.

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Groups and the longest email of the users in the id's database, when there is one. */
async function largestUser(ctx: DoctorContext): Promise<{ groups: string[]; email: string; from: string }> {
  const fallback = { groups: ['admins', 'family', 'friends'], email: 'firstname.lastname@example.com', from: 'assumed 3 groups (give DB_CONNECTION_STRING to use the real ones)' };
  const database = await ctx.database().catch(() => null);
  if (!database) return fallback;
  const memberships = await database.db.selectFrom('user_groups').innerJoin('groups', 'groups.id', 'user_groups.group_id').select(['user_groups.user_id', 'groups.name']).execute();
  const byUser = new Map<string, string[]>();
  for (const m of memberships) byUser.set(m.user_id, [...(byUser.get(m.user_id) ?? []), m.name]);
  const groups = [...byUser.values()].sort((a, b) => b.join(',').length - a.join(',').length)[0] ?? [];
  const emails = (await database.db.selectFrom('users').select('email').execute()).map((u) => u.email ?? '');
  const email = emails.sort((a, b) => b.length - a.length)[0] || fallback.email;
  return { groups, email, from: `the user with the most groups in the database (${groups.length})` };
}

export async function representativeSession(ctx: DoctorContext): Promise<{ session: Session; from: string }> {
  const user = await largestUser(ctx);
  const now = Math.floor(ctx.nowMs() / 1000);
  const issuer = ctx.urls.id ?? 'https://id.example.com';
  const rs256 = (ctx.id?.env.OIDC_SIGNING_ALG ?? 'RS256') === 'RS256';
  const claims = {
    iss: issuer, sub: randomUUID(), aud: ctx.clientId ?? 'latchkey-site', exp: now + 3600, iat: now, auth_time: now,
    nonce: randomBytes(24).toString('base64url'), at_hash: randomBytes(16).toString('base64url'), sid: randomBytes(32).toString('base64url'),
    email: user.email, email_verified: true, name: 'Firstname Lastname', given_name: 'Firstname', family_name: 'Lastname',
    preferred_username: user.email.split('@')[0], groups: user.groups,
  };
  const idToken = `${b64({ alg: rs256 ? 'RS256' : 'ES256', kid: randomBytes(32).toString('base64url') })}.${b64(claims)}.${randomBytes(rs256 ? 256 : 64).toString('base64url')}`;
  const scopes = ctx.proxy?.config?.scopes ?? [];
  const session: Session = {
    sub: claims.sub, email: user.email, emailVerified: true, preferredUsername: claims.preferred_username, groups: user.groups,
    idToken, accessToken: randomBytes(32).toString('base64url'), refreshToken: scopes.includes('offline_access') ? randomBytes(32).toString('base64url') : '',
    sid: claims.sid, createdAt: now, expiresAt: now + 7 * 86400, refreshAt: 0,
  };
  return { session, from: user.from };
}

/** The innermost value of a single-value directive in effect in a location. */
const scalar = (location: Location, name: string): { value: string[]; where: string } | null => {
  const found = inherited(location, name);
  return found.args.length ? { value: found.args.at(-1)!, where: where(found.from!) } : null;
};

export const cookieSize: Check = {
  id: 'cookie-size',
  title: "The session cookie fits nginx's buffers",
  async run(ctx) {
    const cookieName = ctx.proxy?.config?.cookie.name ?? (typeof ctx.proxy?.raw.get('cookie-name') === 'string' ? String(ctx.proxy.raw.get('cookie-name')) : '_oauth2_proxy');
    const secret = ctx.proxy?.config?.cookie.secret ?? randomBytes(32);
    const { session, from } = await representativeSession(ctx);
    const codec = createCookieCodec(cookieName, secret);
    const attrs = { domain: ctx.proxy?.config?.cookie.domains[0] ?? null, path: '/', secure: true, httpOnly: true, sameSite: ctx.proxy?.config?.cookie.sameSite ?? 'lax' as const };
    const lines = codec.write(session, attrs, 7 * 86400, ctx.nowMs(), new Map());
    const setCookieBytes = lines.reduce((sum, line) => sum + 'Set-Cookie: '.length + line.length + 2, 0);
    // the callback's answer: status line, Location back to the page, the cleared CSRF cookie, the rest
    const responseBytes = setCookieBytes + 600;
    const cookieHeaderBytes = 'Cookie: '.length + lines.reduce((sum, line) => sum + line.split(';')[0].length + 2, 0) + 200;
    const shape = lines.length === 1 ? `one cookie of ${lines[0].length} characters` : `${lines.length} cookies ${cookieName}_0…_${lines.length - 1} (split: one would pass 4000 characters)`;
    const seen = `a session for ${from} is ${shape}; the callback's answer headers are about ${responseBytes} bytes, the browser's Cookie header about ${cookieHeaderBytes}`;
    if (!ctx.nginx) return ok(`${seen} (no nginx configuration given, so its buffers are not checked: --nginx-config)`);

    const problems: string[] = [];
    const proxyLocations: Location[] = [];
    for (const server of servers(ctx.nginx)) {
      for (const l of server.locations) {
        const target = proxiesTo(l) ?? '';
        if (l.path.startsWith('/oauth2') || target.includes('/oauth2')) proxyLocations.push(l);
      }
      for (const l of server.locations.filter(isProtected)) {
        // a Lua-checked location (the Lua auth cache) asks the proxy over a connection of its own,
        // through none of nginx's proxy buffers: nothing to check there
        const uri = argsOf(l.directive.block, 'auth_request')[0]?.[0];
        if (!uri) continue;
        const landing = matchLocation(server, uri);
        if (landing && !proxyLocations.includes(landing)) proxyLocations.push(landing);
      }
      const buffers = argsOf(server.directive.block, 'large_client_header_buffers')[0] ?? server.parents.flatMap((p) => argsOf(p.block, 'large_client_header_buffers')).at(-1);
      const bufferBytes = buffers ? parseSize(buffers[1] ?? '') ?? 8192 : 8192;
      if (server.locations.some(isProtected) && cookieHeaderBytes > bufferBytes)
        problems.push(`large_client_header_buffers in the server at ${where(server.directive)} is ${buffers ? buffers.join(' ') : '4 8k (the default)'}: the Cookie header (~${cookieHeaderBytes} bytes) does not fit one buffer, so nginx answers 400 "Request Header Or Cookie Too Large"`);
    }
    for (const l of proxyLocations) {
      const size = scalar(l, 'proxy_buffer_size');
      const bytes = size ? parseSize(size.value[0]) ?? 4096 : 4096;
      if (responseBytes > bytes)
        problems.push(`proxy_buffer_size in location ${l.modifier ? `${l.modifier} ` : ''}${l.path} (${where(l.directive)}) is ${size ? `${size.value[0]} (${size.where})` : '4k (the default)'}: the proxy's answer carrying the session (~${responseBytes} bytes of headers) does not fit, so nginx answers 502 "upstream sent too big header"`);
    }
    // nginx sets an auth location's proxy_buffer_size aside for every protected request: no bigger than needed
    const authKb = Math.max(32, 2 ** Math.ceil(Math.log2(responseBytes / 1024)));
    if (problems.length)
      return fail(`${seen}; ${problems.join('; ')}`, `in location ^~ /oauth2/:\n    proxy_buffer_size 128k;\n    proxy_buffers 4 256k;\n    proxy_busy_buffers_size 256k;\nin every location auth_request uses (set aside for each protected request, so no bigger than this):\n    proxy_buffer_size ${authKb}k;\n    proxy_buffers 4 ${authKb}k;\n    proxy_busy_buffers_size ${authKb * 2}k;\nand in the server: large_client_header_buffers 4 32k;`);
    return ok(`${seen}; every location that talks to the proxy has room for it`);
  },
};
