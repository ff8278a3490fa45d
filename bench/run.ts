// Speed and memory, measured side by side in one run (issue #8 targets 1–5). Not part of `npm test`.
//   node bench/run.ts [--seconds 5] [--rounds 3] [--source] [--write docs/benchmarks-latest.md]
// Every figure is a median of `rounds` wrk runs, and the variants are interleaved round by round,
// so a noisy neighbour slows all of them alike and the ratios stay meaningful. latchkey runs as in
// production (the esbuild bundle with bin/latchkey's Node flags) unless --source is given.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, wholeNumber } from './lib/args.ts';
import { bundleEntry, PRODUCTION_NODE_ARGS, PROXY_FLAGS_TEXT, PROXY_NODE_ARGS } from './lib/bundle.ts';
import { BROWSER_REQUEST_HEADERS } from './lib/browser-request.ts';
import { AUTH_CACHE_SECONDS, benchNginxConfig } from './lib/nginx-bench-config.ts';
import { freePort, repoRoot, rssMb, startAndWait, stop } from './lib/processes.ts';
import { proxyCommand, sealedSessionCookie, startDiscoveryStub } from './lib/proxy-fixture.ts';
import { createFirstAdmin, signIn, startServeProcess } from './lib/serve-fixture.ts';
import { median, wrk } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, write: { type: 'string' }, source: { type: 'boolean' } });
const seconds = wholeNumber(import.meta.url, 'seconds', values.seconds);
const rounds = wholeNumber(import.meta.url, 'rounds', values.rounds);
for (const tool of ['nginx', 'wrk']) {
  try { execFileSync('which', [tool]); } catch { throw new Error(`${tool} is missing: run scripts/system-deps.sh`); }
}
const loadAtStart = loadavg();
const node = join(repoRoot, 'node_modules/.bin/node');
const entry = values.source ? join(repoRoot, 'src/main.ts') : bundleEntry();
const nodeArgs = values.source ? [] : PRODUCTION_NODE_ARGS;
const proxyNodeArgs = values.source ? [] : PROXY_NODE_ARGS;

const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
// nginx's workers run as an unprivileged user; mkdtemp makes the folder private to us.
chmodSync(dir, 0o755);
const site = join(dir, 'site');
mkdirSync(join(site, 'private'), { recursive: true });
const page = `<!doctype html><title>page</title><p>${'x'.repeat(1024 - 40)}</p>\n`;
writeFileSync(join(site, 'private', 'page.html'), page);
writeFileSync(join(site, 'private', 'index.html'), page); // where serve's sign-in lands
writeFileSync(join(site, 'index.html'), page);

// The provider is only needed for discovery at the proxy's start; a tiny stub answers it.
const discovery = await startDiscoveryStub();
const cookieSecret = randomBytes(32);
const [trivialPort, proxyPort, nginxPort, barePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const trivialSocket = join(dir, 'trivial.sock');
const proxySocket = join(dir, 'proxy.sock');

// The trivial 202 server listens on TCP and on a unix socket (0666: nginx's workers run as nobody).
const trivialServer = `const s=()=>require('http').createServer((q,r)=>{r.statusCode=202;r.end()});s().listen(${trivialPort},'127.0.0.1');s().listen(${JSON.stringify(trivialSocket)},()=>require('fs').chmodSync(${JSON.stringify(trivialSocket)},0o666))`;
// The ceiling of any Node upstream: a raw socket that answers every request head with the same
// canned 202, no HTTP parser and no objects per request. Not a design to copy (it trusts its client
// completely); it shows how much of target 2 is left for any Node process after nginx's own work.
const cannedSocket = join(dir, 'canned.sock');
const cannedServer = `const c=Buffer.from('HTTP/1.1 202 Accepted\\r\\nContent-Length: 0\\r\\n\\r\\n');require('net').createServer((s)=>{let p='';s.setEncoding('latin1');s.on('error',()=>{});s.on('data',(d)=>{p+=d;let i;while((i=p.indexOf('\\r\\n\\r\\n'))!==-1){p=p.slice(i+4);s.write(c)}})}).listen(${JSON.stringify(cannedSocket)},()=>require('fs').chmodSync(${JSON.stringify(cannedSocket)},0o666))`;
// The ceiling of target 4: a bare node:http server, with serve's Node flags, answering the page from
// memory (no path, no file, no check). serve cannot be faster than this on the same machine.
const bareServer = `const b=require('fs').readFileSync(${JSON.stringify(join(site, 'private', 'page.html'))});require('http').createServer((q,r)=>{r.writeHead(200,{'content-type':'text/html; charset=utf-8','content-length':b.length});r.end(b)}).listen(${barePort},'127.0.0.1')`;
const bare = await startAndWait(node, [...nodeArgs, '-e', bareServer], `http://127.0.0.1:${barePort}/`);
const trivial = await startAndWait(node, ['-e', trivialServer], `unix:${trivialSocket}:/`);
const canned = await startAndWait(node, ['-e', cannedServer], `unix:${cannedSocket}:/`);
const proxy = await startAndWait(node, [...proxyNodeArgs, ...proxyCommand({ issuer: discovery.issuer, port: proxyPort, cookieSecret, entry })], `http://127.0.0.1:${proxyPort}/ping`);
const socketProxy = await startAndWait(node, [...proxyNodeArgs, ...proxyCommand({ issuer: discovery.issuer, socket: proxySocket, cookieSecret, entry })], `unix:${proxySocket}:/ping`);
const proxyRssAtStartMb = rssMb(proxy.child.pid!);

// latchkey serve with the same site; its session comes from a real sign-in (setup link, passkey).
const serve = await startServeProcess({ site, entry, nodeArgs });
const serveRssAtStartMb = rssMb(serve.child.pid!);
const admin = await createFirstAdmin(serve);
const { cookie: serveCookie } = await signIn(serve, admin);

mkdirSync(join(dir, 'nginx'), { recursive: true });
writeFileSync(join(dir, 'nginx', 'nginx.conf'), benchNginxConfig(join(dir, 'nginx'), site, { listen: nginxPort, trivialPort, trivialSocket, cannedSocket, proxyPort, proxySocket }));
const nginx = spawn('nginx', ['-p', join(dir, 'nginx'), '-c', join(dir, 'nginx', 'nginx.conf')], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));

const cookie = sealedSessionCookie(cookieSecret);
const base = `http://127.0.0.1:${nginxPort}`;
// Both caches reach the proxy over its unix socket, as `generate nginx --proxy-socket` sets it up.
const CACHED = `nginx + latchkey proxy (unix socket), generated auth cache ${AUTH_CACHE_SECONDS} s (proxy_cache)`;
const LUA_CACHED = `nginx + latchkey proxy (unix socket), generated auth cache ${AUTH_CACHE_SECONDS} s (--auth-cache-engine lua)`;
const CANNED = 'nginx + auth_request → a canned 202 from Node without HTTP parsing, unix socket';
const BARE = 'a bare node:http server answering the page from memory (serve\'s Node flags and cookie)';
// The same request with the rest of a browser's headers (bench/lib/browser-request.ts): what a
// page view costs each hop that parses them.
const BROWSER = ', a browser\'s request';
const PROXY_SOCKET_ALL_HEADERS = `nginx + auth_request → latchkey proxy, unix socket${BROWSER}, every header passed on to the check (a hand-written location)`;
const browser = BROWSER_REQUEST_HEADERS;
const variants: Record<string, { url: string; cookie: string; headers?: Readonly<Record<string, string>> }> = {
  'nginx, unprotected': { url: `${base}/public/page.html`, cookie },
  'nginx + auth_request → trivial 202 upstream': { url: `${base}/p-trivial/page.html`, cookie },
  'nginx + auth_request → trivial 202 upstream, unix socket': { url: `${base}/p-trivial-socket/page.html`, cookie },
  [CANNED]: { url: `${base}/p-canned-socket/page.html`, cookie },
  'nginx + auth_request → latchkey proxy': { url: `${base}/p-proxy/page.html`, cookie },
  'nginx + auth_request → latchkey proxy, unix socket': { url: `${base}/p-proxy-socket/page.html`, cookie },
  'nginx + auth_request → latchkey proxy, no upstream keep-alive': { url: `${base}/p-proxy-no-keepalive/page.html`, cookie },
  [CACHED]: { url: `${base}/p-cached/page.html`, cookie },
  [LUA_CACHED]: { url: `${base}/p-lua/page.html`, cookie },
  'latchkey proxy /oauth2/auth direct': { url: `http://127.0.0.1:${proxyPort}/oauth2/auth`, cookie },
  'latchkey serve, protected page': { url: `${serve.siteOrigin.replace('localhost', '127.0.0.1')}/private/page.html`, cookie: serveCookie },
  [BARE]: { url: `http://127.0.0.1:${barePort}/private/page.html`, cookie: serveCookie },
  [`nginx, unprotected${BROWSER}`]: { url: `${base}/public/page.html`, cookie, headers: browser },
  [`nginx + auth_request → latchkey proxy, unix socket${BROWSER}`]: { url: `${base}/p-proxy-socket/page.html`, cookie, headers: browser },
  [PROXY_SOCKET_ALL_HEADERS]: { url: `${base}/p-proxy-socket-all-headers/page.html`, cookie, headers: browser },
  [`latchkey serve, protected page${BROWSER}`]: { url: `${serve.siteOrigin.replace('localhost', '127.0.0.1')}/private/page.html`, cookie: serveCookie, headers: browser },
  [`${BARE}${BROWSER}`]: { url: `http://127.0.0.1:${barePort}/private/page.html`, cookie: serveCookie, headers: browser },
};
type Variant = keyof typeof variants;

// Every guarded variant must really be guarded and really admit the cookie, or its figure is void.
for (const [name, v] of Object.entries(variants)) {
  const withCookie = await fetch(v.url, { headers: { cookie: v.cookie }, redirect: 'manual' });
  if (withCookie.status >= 300) throw new Error(`${name}: ${withCookie.status} with a valid session`);
  if (!name.startsWith('nginx, unprotected') && !name.includes('trivial') && name !== CANNED && !name.startsWith(BARE)) {
    const without = await fetch(v.url, { redirect: 'manual' });
    if (![302, 401].includes(without.status)) throw new Error(`${name}: ${without.status} without a session (expected 401, or serve's 302 to sign-in)`);
  }
}

const results = new Map<Variant, number[]>();
let serveCookieNow = serveCookie;
for (let round = 0; round < rounds; round++) {
  // serve checks a session with the provider every 5 minutes (--cookie-refresh); wrk replays one
  // cookie and never stores the refreshed one a browser would, so past that mark every request
  // would take the refresh path. A fresh sign-in each round keeps the serve rows below it.
  if (round > 0) {
    const { cookie: fresh } = await signIn(serve, admin);
    for (const v of Object.values(variants)) if (v.cookie === serveCookieNow) v.cookie = fresh;
    serveCookieNow = fresh;
  }
  for (const name of Object.keys(variants) as Variant[]) {
    const result = wrk(variants[name].url, { seconds, headers: { ...variants[name].headers, cookie: variants[name].cookie } });
    if (result.non2xx || result.errors) throw new Error(`${name}: ${result.non2xx} non-2xx and ${result.errors} socket errors`);
    results.set(name, [...(results.get(name) ?? []), result.requestsPerSecond]);
  }
}
const proxyRssAfterMb = rssMb(proxy.child.pid!);
const serveRssAfterMb = rssMb(serve.child.pid!);
const loadAtEnd = loadavg();
const rate = (name: Variant) => median(results.get(name)!);
const ratio = (a: Variant, b: Variant) => rate(a) / rate(b);

const T = (name: string) => name as Variant;
const targets = [
  { target: '1. /oauth2/auth through nginx ≥ 0.8× trivial 202 upstream (TCP)', value: ratio(T('nginx + auth_request → latchkey proxy'), T('nginx + auth_request → trivial 202 upstream')), goal: 0.8 },
  { target: '1. /oauth2/auth through nginx ≥ 0.8× trivial 202 upstream (both on a unix socket)', value: ratio(T('nginx + auth_request → latchkey proxy, unix socket'), T('nginx + auth_request → trivial 202 upstream, unix socket')), goal: 0.8 },
  { target: '2. protected page via nginx + latchkey proxy over TCP ≥ 0.5× unprotected nginx', value: ratio(T('nginx + auth_request → latchkey proxy'), T('nginx, unprotected')), goal: 0.5 },
  { target: '2. protected page via nginx + latchkey proxy over a unix socket (--proxy-socket) ≥ 0.5× unprotected nginx', value: ratio(T('nginx + auth_request → latchkey proxy, unix socket'), T('nginx, unprotected')), goal: 0.5 },
  { target: `3. with the generated auth cache, proxy_cache ≥ 0.8× unprotected nginx (revocation delay: up to ${AUTH_CACHE_SECONDS} s)`, value: ratio(T(CACHED), T('nginx, unprotected')), goal: 0.8 },
  { target: `3. with the generated auth cache, --auth-cache-engine lua ≥ 0.8× unprotected nginx (revocation delay: up to ${AUTH_CACHE_SECONDS} s)`, value: ratio(T(LUA_CACHED), T('nginx, unprotected')), goal: 0.8 },
  { target: '4. latchkey serve, protected page ≥ 0.5× unprotected nginx', value: ratio(T('latchkey serve, protected page'), T('nginx, unprotected')), goal: 0.5 },
  { target: '4. latchkey serve faster than nginx + latchkey proxy over a unix socket, the faster transport (ratio > 1)', value: ratio(T('latchkey serve, protected page'), T('nginx + auth_request → latchkey proxy, unix socket')), goal: 1 },
  { target: `2. the same${BROWSER} (unix socket; both sides get the same headers)`, value: ratio(T(`nginx + auth_request → latchkey proxy, unix socket${BROWSER}`), T(`nginx, unprotected${BROWSER}`)), goal: 0.5 },
  { target: `4. latchkey serve${BROWSER} ≥ 0.5× unprotected nginx`, value: ratio(T(`latchkey serve, protected page${BROWSER}`), T(`nginx, unprotected${BROWSER}`)), goal: 0.5 },
  { target: `4. latchkey serve${BROWSER} faster than nginx + latchkey proxy over a unix socket (ratio > 1)`, value: ratio(T(`latchkey serve, protected page${BROWSER}`), T(`nginx + auth_request → latchkey proxy, unix socket${BROWSER}`)), goal: 1 },
];
// The proxy's limit holds at all times; serve's 90 MB is at start (its limit after load, 130 MB, is bench/memory.ts's).
const rss = (atStart: number, after: number, goal: number, judged: 'always' | 'at start') => `${atStart.toFixed(0)} MB at start, ${after.toFixed(0)} MB after the runs | ${(judged === 'always' ? Math.max(atStart, after) : atStart) <= goal ? 'yes' : 'no'}`;
// nginx -v prints to stderr
const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim().replace('nginx version: ', '');

const lines = [
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${loadAtStart[0].toFixed(1)} at start and ${loadAtEnd[0].toFixed(1)} at the end; Node ${process.version}, ${nginxVersion} with one worker per core, wrk -t1 -c50, ${seconds} s × ${rounds} rounds (medians); latchkey from ${values.source ? 'source (src/main.ts)' : `the bundle (npm run build) with ${nodeArgs.join(' ')} (${PROXY_FLAGS_TEXT}, as bin/latchkey runs it)`}.`,
  '',
  '| variant | requests/s (median) | runs |',
  '|---|---:|---|',
  ...[...results].map(([name, runs]) => `| ${name} | ${Math.round(median(runs)).toLocaleString('en')} | ${runs.map((r) => Math.round(r)).join(', ')} |`),
  '',
  '| target | measured | met |',
  '|---|---:|---|',
  ...targets.map((t) => `| ${t.target} | ${t.value.toFixed(2)}× | ${t.value >= t.goal ? 'yes' : 'no'} |`),
  `| (reference for 2) the best any Node upstream can do over a unix socket: a canned 202, no HTTP parser ÷ unprotected nginx | ${ratio(T(CANNED), T('nginx, unprotected')).toFixed(2)}× | – |`,
  `| (reference for 4) what no Node server can pass here: ${BARE} ÷ unprotected nginx | ${ratio(T(BARE), T('nginx, unprotected')).toFixed(2)}× | – |`,
  `| (reference for 4${BROWSER}) ${BARE}${BROWSER} ÷ unprotected nginx${BROWSER} | ${ratio(T(`${BARE}${BROWSER}`), T(`nginx, unprotected${BROWSER}`)).toFixed(2)}× | – |`,
  `| (lever 36) ${BROWSER.slice(2)}: the generated auth location, which passes on only the cookie ÷ one that passes every header | ${ratio(T(`nginx + auth_request → latchkey proxy, unix socket${BROWSER}`), T(PROXY_SOCKET_ALL_HEADERS)).toFixed(2)}× | – |`,
  `| 5. latchkey proxy RSS ≤ 70 MB | ${rss(proxyRssAtStartMb, proxyRssAfterMb, 70, 'always')} |`,
  `| 5. latchkey serve RSS ≤ 90 MB at start (after these runs, not the 10,000 sign-ins of bench/memory.ts) | ${rss(serveRssAtStartMb, serveRssAfterMb, 90, 'at start')} |`,
  `| 5. latchkey proxy start to ready ≤ 1 s | ${proxy.readyMs.toFixed(0)} ms | ${proxy.readyMs <= 1000 ? 'yes' : 'no'} |`,
  `| 5. latchkey serve start to ready ≤ 1 s (as serve logs it) | ${serve.readyMs.toFixed(0)} ms | ${serve.readyMs <= 1000 ? 'yes' : 'no'} |`,
];
console.log(lines.join('\n'));
if (values.write) writeFileSync(values.write, `${lines.join('\n')}\n`);

nginx.kill('SIGTERM');
await Promise.all([stop(proxy.child), stop(socketProxy.child), stop(trivial.child), stop(canned.child), stop(serve.child), stop(bare.child)]);
await discovery.close();
if (readFileSync(join(dir, 'nginx', 'error.log'), 'utf8').includes('[emerg]')) console.error('nginx reported an error: see its error.log');
rmSync(dir, { recursive: true, force: true });
