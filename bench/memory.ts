// Memory of `latchkey serve` with the demo site (issue #8, target 5): RSS after start, then after
// each of two rounds of N sign-ins (fresh browsers with the admin's passkey, over HTTP) and M
// protected requests (wrk on /private/ with one of those sessions). Target: ≤ 90 MB after start,
// ≤ 130 MB after a round of 10,000 sign-ins and 1,000,000 requests, and no growth from round 1 to 2.
//   node bench/memory.ts [--sign-ins 10000] [--requests 1000000] [--source] [--node-arg=--flag …]
// --node-arg replaces bin/latchkey's Node flags (a candidate to compare with them).
// Quick runs: scale both counts down (e.g. --sign-ins 500 --requests 100000) and say so.
import { benchArgs, wholeNumber } from './lib/args.ts';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleEntry, PRODUCTION_NODE_ARGS } from './lib/bundle.ts';
import { repoRoot, rssMb, stop } from './lib/processes.ts';
import { createFirstAdmin, signIn, startServeProcess } from './lib/serve-fixture.ts';
import { wrk } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, { 'sign-ins': { type: 'string', default: '10000' }, requests: { type: 'string', default: '1000000' }, source: { type: 'boolean' }, concurrency: { type: 'string', default: '4' }, 'node-arg': { type: 'string', multiple: true } });
const signIns = wholeNumber(import.meta.url, 'sign-ins', values['sign-ins']);
const requests = wholeNumber(import.meta.url, 'requests', values.requests);
const concurrency = wholeNumber(import.meta.url, 'concurrency', values.concurrency);
const entry = values.source ? join(repoRoot, 'src/main.ts') : bundleEntry();
const serve = await startServeProcess({ site: join(repoRoot, 'demo/public'), entry, nodeArgs: values['node-arg'] ?? (values.source ? [] : PRODUCTION_NODE_ARGS), protect: ['/private/', '/private/family/=family'] });
const rows: string[] = [];
const note = (what: string) => {
  const line = `${what}: RSS ${rssMb(serve.child.pid!).toFixed(0)} MB (load average ${loadavg()[0].toFixed(1)})`;
  rows.push(line);
  console.log(line);
};
try {
  note('after start');
  const admin = await createFirstAdmin(serve);
  const url = `${serve.siteOrigin.replace('localhost', '127.0.0.1')}/private/`;
  for (const round of [1, 2]) {
    const started = performance.now();
    let cookie = '';
    let done = 0;
    // A few browsers at a time, as a real crowd signs in.
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (done < signIns) {
        done++;
        cookie = (await signIn(serve, admin)).cookie;
      }
    }));
    note(`round ${round}: after ${signIns} sign-ins (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    let sent = 0;
    while (sent < requests) {
      const result = wrk(url, { seconds: Math.max(1, Math.min(10, Math.ceil((requests - sent) / 10_000))), headers: { cookie } });
      if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx and ${result.errors} socket errors on ${url}`);
      sent += result.requests;
    }
    note(`round ${round}: after ${sent} protected requests`);
    // wrk ran synchronously: let this process see the connections serve closed meanwhile, or the
    // next sign-in reuses a dead keep-alive socket ("socket hang up").
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  console.log(`\n${values.source ? 'source' : 'bundle'}${values['node-arg'] ? ` with ${values['node-arg'].join(' ')}` : ''}; ${signIns} sign-ins and ${requests} protected requests per round; targets: ≤ 90 MB after start, ≤ 130 MB after a round, no growth from round 1 to round 2.`);
} finally {
  await stop(serve.child);
}
