// Where `latchkey proxy` spends its CPU on /oauth2/auth: runs it under --cpu-prof, drives
// /oauth2/auth directly with wrk (valid session), and prints self time per function. Also
// reports CPU time per request (utime+stime from /proc), which load on the machine barely moves.
//   node bench/profile-proxy.ts [--seconds 10] [--keep DIR] [--entry dist/latchkey.js]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selfTimeByFunction } from './lib/cpuprofile-summary.ts';
import { proxyCommand, sealedSessionCookie, startDiscoveryStub } from './lib/proxy-fixture.ts';
import { freePort, repoRoot, startAndWait, stop } from './lib/processes.ts';
import { wrk } from './lib/wrk.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, keep: { type: 'string' }, entry: { type: 'string' }, top: { type: 'string', default: '25' } } });
const profileDir = values.keep ?? mkdtempSync(join(tmpdir(), 'latchkey-prof-'));
const { issuer, server } = await startDiscoveryStub();
const cookieSecret = randomBytes(32);
const port = await freePort();
const proxy = await startAndWait(join(repoRoot, 'node_modules/.bin/node'),
  ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...proxyCommand({ issuer, port, cookieSecret, entry: values.entry })], `http://127.0.0.1:${port}/ping`);
const cookie = sealedSessionCookie(cookieSecret);
const url = `http://127.0.0.1:${port}/oauth2/auth`;
if ((await fetch(url, { headers: { cookie } })).status !== 202) throw new Error('the session cookie is not accepted');

const cpuTicks = () => readFileSync(`/proc/${proxy.child.pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13).reduce((s, n) => s + Number(n), 0);
wrk(url, { seconds: 2, headers: { cookie } }); // warm-up (JIT)
const ticksBefore = cpuTicks();
const result = wrk(url, { seconds: Number(values.seconds), headers: { cookie } });
const cpuMs = (cpuTicks() - ticksBefore) * 10; // USER_HZ = 100
const requests = result.requestsPerSecond * Number(values.seconds);
await stop(proxy.child);
server.close();

const file = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f)).pop();
console.log(`${Math.round(result.requestsPerSecond)} req/s, proxy CPU ${((cpuMs * 1000) / requests).toFixed(1)} µs per request (${requests.toFixed(0)} requests)`);
if (!file) throw new Error(`no profile written in ${profileDir}`);
const rows = selfTimeByFunction(JSON.parse(readFileSync(file, 'utf8')));
for (const r of rows.slice(0, Number(values.top))) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
console.log(`profile: ${file}`);
