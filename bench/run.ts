// Speed and memory, measured side by side in one run (issue targets 1–5). Not part of `npm test`.
//   node bench/run.ts [--seconds 5] [--rounds 3] [--write docs/benchmarks.md]
// Every figure is a median of `rounds` wrk runs, and the variants are interleaved round by round,
// so a noisy neighbour slows all of them alike and the ratios stay meaningful.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createCookieCodec } from '../src/proxy/cookie-codec.ts';
import { freePort, repoRoot, rssMb, startAndWait, stop } from './lib/processes.ts';
import { benchNginxConfig } from './lib/nginx-bench-config.ts';
import { median, wrk } from './lib/wrk.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, write: { type: 'string' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
for (const tool of ['nginx', 'wrk']) {
  try { execFileSync('which', [tool]); } catch { throw new Error(`${tool} is missing: run scripts/system-deps.sh`); }
}

const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
// nginx's workers run as an unprivileged user; mkdtemp makes the folder private to us.
chmodSync(dir, 0o755);
const site = join(dir, 'site');
mkdirSync(join(site, 'private'), { recursive: true });
writeFileSync(join(site, 'private', 'page.html'), `<!doctype html><title>page</title><p>${'x'.repeat(1024 - 40)}</p>\n`);

// The provider is only needed for discovery at the proxy's start; a tiny stub answers it.
const issuerPort = await freePort();
const issuer = `http://localhost:${issuerPort}`;
const discovery = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'], code_challenge_methods_supported: ['S256'] }));
}).listen(issuerPort, '127.0.0.1');

const node = join(repoRoot, 'node_modules/.bin/node');
const cookieSecret = randomBytes(32);
const [trivialPort, proxyPort, nginxPort] = [await freePort(), await freePort(), await freePort()];

const trivial = await startAndWait(node, ['-e', `require('http').createServer((q,s)=>{s.statusCode=202;s.end()}).listen(${trivialPort},'127.0.0.1')`], `http://127.0.0.1:${trivialPort}/`);
const proxy = await startAndWait(node, [join(repoRoot, 'src/main.ts'), 'proxy', '--provider=oidc', '--client-id=bench', '--client-secret=bench-secret',
  `--oidc-issuer-url=${issuer}`, '--redirect-url=http://localhost/oauth2/callback', `--cookie-secret=${cookieSecret.toString('base64url')}`,
  '--email-domain=*', '--upstream=static://202', `--http-address=127.0.0.1:${proxyPort}`, '--cookie-secure=false', '--set-xauthrequest', '--log-level=warn'],
  `http://127.0.0.1:${proxyPort}/ping`);
const proxyRssAtStartMb = rssMb(proxy.child.pid!);

mkdirSync(join(dir, 'nginx'), { recursive: true });
writeFileSync(join(dir, 'nginx', 'nginx.conf'), benchNginxConfig(join(dir, 'nginx'), site, { listen: nginxPort, trivialUpstream: trivialPort, proxy: proxyPort }));
const nginx = spawn('nginx', ['-p', join(dir, 'nginx'), '-c', join(dir, 'nginx', 'nginx.conf')], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));

// A real session cookie, sealed exactly as a sign-in would seal it; the ID token is of realistic size.
const now = Math.floor(Date.now() / 1000);
const fakeJwt = (bytes: number) => `${randomBytes(36).toString('base64url')}.${randomBytes(bytes).toString('base64url')}.${randomBytes(256).toString('base64url')}`;
const [cookieLine] = createCookieCodec('_oauth2_proxy', cookieSecret).write({
  sub: 'user-123', email: 'alice@example.com', emailVerified: true, preferredUsername: 'alice', groups: ['family', 'friends'],
  idToken: fakeJwt(400), accessToken: randomBytes(32).toString('base64url'), refreshToken: randomBytes(32).toString('base64url'),
  sid: 'sid-1', createdAt: now, expiresAt: now + 7 * 86400, refreshAt: 0,
}, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: 'lax' }, 7 * 86400, Date.now(), new Map());
const cookie = cookieLine.split(';')[0];

const base = `http://127.0.0.1:${nginxPort}`;
const variants = {
  'nginx, unprotected': { url: `${base}/public/page.html` },
  'nginx + auth_request → trivial 202 upstream': { url: `${base}/p-trivial/page.html` },
  'nginx + auth_request → latchkey proxy': { url: `${base}/p-proxy/page.html` },
  'nginx + auth_request → latchkey proxy, auth cache 30 s': { url: `${base}/p-cached/page.html` },
  'latchkey proxy /oauth2/auth direct': { url: `http://127.0.0.1:${proxyPort}/oauth2/auth` },
} as const;
type Variant = keyof typeof variants;

// Every guarded variant must really be guarded and really admit the cookie, or its figure is void.
for (const [name, v] of Object.entries(variants)) {
  const withCookie = await fetch(v.url, { headers: { cookie } });
  if (withCookie.status >= 300) throw new Error(`${name}: ${withCookie.status} with a valid session`);
  if (name.includes('latchkey') || name.includes('trivial')) {
    const without = await fetch(v.url);
    if (name.includes('latchkey') && without.status !== 401) throw new Error(`${name}: ${without.status} without a session (expected 401)`);
  }
}

const results = new Map<Variant, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const name of Object.keys(variants) as Variant[]) {
    const result = wrk(variants[name].url, { seconds, headers: { cookie } });
    if (result.non2xx || result.errors) throw new Error(`${name}: ${result.non2xx} non-2xx and ${result.errors} socket errors`);
    results.set(name, [...(results.get(name) ?? []), result.requestsPerSecond]);
  }
}
const proxyRssAfterMb = rssMb(proxy.child.pid!);
const rate = (name: Variant) => median(results.get(name)!);

const ratio = (a: Variant, b: Variant) => rate(a) / rate(b);
const targets = [
  { target: '1. /oauth2/auth through nginx ≥ 0.8× trivial 202 upstream', value: ratio('nginx + auth_request → latchkey proxy', 'nginx + auth_request → trivial 202 upstream'), goal: 0.8 },
  { target: '2. protected page via nginx + latchkey proxy ≥ 0.5× unprotected nginx', value: ratio('nginx + auth_request → latchkey proxy', 'nginx, unprotected'), goal: 0.5 },
  { target: '3. with the auth cache ≥ 0.8× unprotected nginx (revocation delay: up to 30 s)', value: ratio('nginx + auth_request → latchkey proxy, auth cache 30 s', 'nginx, unprotected'), goal: 0.8 },
];

const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${process.version}, nginx 1 worker, wrk -t1 -c50, ${seconds} s × ${rounds} rounds (medians).`,
  '',
  '| variant | requests/s (median) | runs |',
  '|---|---:|---|',
  ...[...results].map(([name, runs]) => `| ${name} | ${Math.round(median(runs)).toLocaleString('en')} | ${runs.map((r) => Math.round(r)).join(', ')} |`),
  '',
  '| target | measured | met |',
  '|---|---:|---|',
  ...targets.map((t) => `| ${t.target} | ${t.value.toFixed(2)}× | ${t.value >= t.goal ? 'yes' : 'no'} |`),
  `| 5. latchkey proxy RSS ≤ 70 MB | ${proxyRssAtStartMb.toFixed(0)} MB at start, ${proxyRssAfterMb.toFixed(0)} MB after the runs | ${Math.max(proxyRssAtStartMb, proxyRssAfterMb) <= 70 ? 'yes' : 'no'} |`,
  `| 5. latchkey proxy start to ready ≤ 1 s | ${proxy.readyMs.toFixed(0)} ms | ${proxy.readyMs <= 1000 ? 'yes' : 'no'} |`,
];
console.log(lines.join('\n'));
if (values.write) writeFileSync(values.write, `${lines.join('\n')}\n`);

nginx.kill('SIGTERM');
await Promise.all([stop(proxy.child), stop(trivial.child)]);
discovery.close();
rmSync(dir, { recursive: true, force: true });
