// Where `latchkey proxy` spends its CPU on /oauth2/auth: runs it under --cpu-prof, drives
// /oauth2/auth directly with wrk (valid session), and prints self time per function. Also
// reports CPU time per request (utime+stime from /proc), which load on the machine barely moves,
// beside the same figure for a trivial node:http server answering 202 (the floor for any Node upstream).
//   node bench/profile-proxy.ts [--seconds 10] [--keep DIR] [--entry dist/latchkey.js] [--no-profile] [--node-arg=--max-semi-space-size=1 …]
import { benchArgs, wholeNumber } from './lib/args.ts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// For its side effect: every process started here gets bin/latchkey's MALLOC_TRIM_THRESHOLD_ unless
// it is set (RSS measured without it is not production's: docs/benchmarks.md, lever 14).
import './lib/bundle.ts';
import { selfTimeByFunction } from './lib/cpuprofile-summary.ts';
import { proxyCommand, sealedSessionCookie, startDiscoveryStub } from './lib/proxy-fixture.ts';
import { freePort, repoRoot, rssMb, startAndWait, stop } from './lib/processes.ts';
import { wrk } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, { seconds: { type: 'string', default: '10' }, keep: { type: 'string' }, entry: { type: 'string' }, top: { type: 'string', default: '25' }, 'no-profile': { type: 'boolean' }, 'node-arg': { type: 'string', multiple: true } });
const top = wholeNumber(import.meta.url, 'top', values.top);
const node = join(repoRoot, 'node_modules/.bin/node');
const seconds = wholeNumber(import.meta.url, 'seconds', values.seconds);
const cpuTicks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((s, n) => s + Number(n), 0);

/** Requests/s and CPU µs per request of the process `pid` while wrk drives `url` (after a warm-up). */
function cpuPerRequest(pid: number, url: string, headers: Record<string, string>) {
  wrk(url, { seconds: 2, headers });
  const ticksBefore = cpuTicks(pid);
  const result = wrk(url, { seconds, headers });
  const cpuMs = (cpuTicks(pid) - ticksBefore) * 10; // USER_HZ = 100
  return { rps: result.requestsPerSecond, cpuUs: (cpuMs * 1000) / (result.requestsPerSecond * seconds) };
}

const trivialPort = await freePort();
const trivial = await startAndWait(node, ['-e', `require('http').createServer((q,s)=>{s.statusCode=202;s.end()}).listen(${trivialPort},'127.0.0.1')`], `http://127.0.0.1:${trivialPort}/`);
const profileDir = values.keep ?? mkdtempSync(join(tmpdir(), 'latchkey-prof-'));
const { issuer, close: closeDiscovery } = await startDiscoveryStub();
const cookieSecret = randomBytes(32);
const port = await freePort();
const proxy = await startAndWait(node,
  [...(values['node-arg'] ?? []), ...(values['no-profile'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]), ...proxyCommand({ issuer, port, cookieSecret, entry: values.entry })], `http://127.0.0.1:${port}/ping`);
const cookie = sealedSessionCookie(cookieSecret);
const url = `http://127.0.0.1:${port}/oauth2/auth`;
if ((await fetch(url, { headers: { cookie } })).status !== 202) throw new Error('the session cookie is not accepted');

const rssAtStart = rssMb(proxy.child.pid!);
const base = cpuPerRequest(trivial.child.pid!, `http://127.0.0.1:${trivialPort}/oauth2/auth`, { cookie });
const measured = cpuPerRequest(proxy.child.pid!, url, { cookie });
const rssAfter = rssMb(proxy.child.pid!);
await Promise.all([stop(proxy.child), stop(trivial.child)]);
await closeDiscovery();
console.log(`trivial 202: ${Math.round(base.rps)} req/s, ${base.cpuUs.toFixed(1)} µs CPU per request`);
console.log(`latchkey proxy${values['no-profile'] ? '' : ' (under --cpu-prof)'}: ${Math.round(measured.rps)} req/s, ${measured.cpuUs.toFixed(1)} µs CPU per request (${(measured.cpuUs / base.cpuUs).toFixed(2)}× trivial); RSS ${rssAtStart.toFixed(1)} MB at start, ${rssAfter.toFixed(1)} MB after`);
if (values['no-profile']) process.exit(0);

const file = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f)).pop();
if (!file) throw new Error(`no profile written in ${profileDir}`);
const rows = selfTimeByFunction(JSON.parse(readFileSync(file, 'utf8')));
for (const r of rows.slice(0, top)) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
console.log(`profile: ${file}`);
