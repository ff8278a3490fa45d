// `latchkey proxy` start to ready (until /ping answers) and RSS right after, for one or more entry
// points side by side (source vs bundle, or two checkouts), interleaved run by run, medians.
//   node bench/proxy-start.ts [--runs 5] [--entry src/main.ts] [--entry dist/latchkey.mjs] …
import { benchArgs, wholeNumber } from './lib/args.ts';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
// For its side effect: every process started here gets bin/latchkey's MALLOC_TRIM_THRESHOLD_ unless
// it is set (RSS measured without it is not production's: docs/benchmarks.md, lever 14).
import './lib/bundle.ts';
import { proxyCommand, startDiscoveryStub } from './lib/proxy-fixture.ts';
import { freePort, repoRoot, rssMb, startAndWait, stop } from './lib/processes.ts';
import { median } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, { runs: { type: 'string', default: '5' }, entry: { type: 'string', multiple: true }, 'node-arg': { type: 'string', multiple: true } });
const runs = wholeNumber(import.meta.url, 'runs', values.runs);
const entries = values.entry?.length ? values.entry : [join(repoRoot, 'src/main.ts')];
const { issuer, close: closeDiscovery } = await startDiscoveryStub();
const results = new Map<string, { readyMs: number[]; rssMb: number[] }>(entries.map((e) => [e, { readyMs: [], rssMb: [] }]));
for (let run = 0; run < runs; run++) {
  for (const entry of entries) {
    const port = await freePort();
    const proxy = await startAndWait(join(repoRoot, 'node_modules/.bin/node'), [...(values['node-arg'] ?? []), ...proxyCommand({ issuer, port, cookieSecret: randomBytes(32), entry })], `http://127.0.0.1:${port}/ping`);
    await new Promise((r) => setTimeout(r, 300)); // discovery loads just after listening
    results.get(entry)!.readyMs.push(proxy.readyMs);
    results.get(entry)!.rssMb.push(rssMb(proxy.child.pid!));
    await stop(proxy.child);
  }
}
await closeDiscovery();
for (const [entry, r] of results) {
  console.log(`${entry}: ready ${median(r.readyMs).toFixed(0)} ms (${r.readyMs.map((v) => v.toFixed(0)).join(', ')}), RSS ${median(r.rssMb).toFixed(0)} MB (${r.rssMb.map((v) => v.toFixed(0)).join(', ')})`);
}
