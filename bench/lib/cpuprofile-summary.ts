// Self time per function from a V8 .cpuprofile (what `node --cpu-prof` writes), largest first.
//   node bench/lib/cpuprofile-summary.ts FILE.cpuprofile [--top 30]
// Samples are attributed to the function on top of the stack; "(garbage collector)", "(program)"
// and "(idle)" are V8's own buckets.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export function selfTimeByFunction(profile: Profile): { name: string; ms: number; share: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const file = frame.url.replace(/^.*\/(node_modules\/|src\/)/, '$1');
    const name = `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(name, (totals.get(name) ?? 0) + us);
    all += us;
  });
  return [...totals].map(([name, us]) => ({ name, ms: us / 1000, share: us / all })).sort((a, b) => b.ms - a.ms);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  const rows = selfTimeByFunction(JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile);
  const busy = rows.filter((r) => r.name !== '(idle)').reduce((s, r) => s + r.ms, 0);
  console.log(`busy ${busy.toFixed(0)} ms (excluding idle)`);
  for (const r of rows.slice(0, Number(values.top))) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}`);
}
