// Sign-in server time (issue #8, target 6: options + verify + token exchange ≤ 20 ms at the median).
// Starts `latchkey serve` on the demo site, creates the first admin from the setup link, then signs
// in N fresh browsers with that passkey over HTTP and times the three requests that do the work.
//   node bench/sign-in.ts [--count 200] [--source]
import { benchArgs, wholeNumber } from './lib/args.ts';
import { join } from 'node:path';
import { bundleEntry, PRODUCTION_NODE_ARGS } from './lib/bundle.ts';
import { repoRoot, stop } from './lib/processes.ts';
import { createFirstAdmin, signIn, startServeProcess, type SignInTimings } from './lib/serve-fixture.ts';
import { median } from './lib/wrk.ts';

const values = benchArgs(import.meta.url, { count: { type: 'string', default: '200' }, source: { type: 'boolean' } });
const count = wholeNumber(import.meta.url, 'count', values.count);
const entry = values.source ? join(repoRoot, 'src/main.ts') : bundleEntry();
const serve = await startServeProcess({ site: join(repoRoot, 'demo/public'), entry, nodeArgs: PRODUCTION_NODE_ARGS });
try {
  const alice = await createFirstAdmin(serve);
  const all: SignInTimings[] = [];
  for (let i = 0; i < count; i++) all.push((await signIn(serve, alice)).timings);
  const warm = all.slice(Math.min(10, all.length - 1)); // the first few compile code
  const row = (name: keyof SignInTimings) => `${name.replace('Ms', '')} ${median(warm.map((t) => t[name])).toFixed(1)} ms`;
  const total = median(warm.map((t) => t.optionsMs + t.verifyMs + t.callbackMs));
  console.log(`sign-in server time, median of ${warm.length} (${values.source ? 'source' : 'bundle'}): ${row('optionsMs')}, ${row('verifyMs')}, ${row('callbackMs')}; total ${total.toFixed(1)} ms (target ≤ 20 ms)`);
} finally {
  await stop(serve.child);
}
