// What each command of the bundle loads at start, by package: the chunks its entry imports
// statically (dynamic import() chunks are loaded on demand, so they are left out), from the
// metafile that `scripts/build.ts --metafile FILE` writes. V8 keeps each loaded chunk's source
// text in the heap and compiles what runs, so these bytes are a floor for the command's heap.
//   node scripts/build.ts --outdir /tmp/dist --metafile /tmp/meta.json
//   node bench/lib/chunk-sizes.ts /tmp/meta.json serve [--top 30] [--files]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Metafile {
  outputs: Record<string, { bytes: number; imports: { path: string; kind: string }[]; inputs: Record<string, { bytesInOutput: number }>; entryPoint?: string }>;
}

/** Every input module (source path) in the chunks `command` loads at start, with its bytes in the bundle. */
export function modulesLoadedAtStart(meta: Metafile, command: string): Map<string, number> {
  const outputs = meta.outputs;
  // The command's own chunk is the one named after it (src/main.ts imports src/cli/<command>.ts on demand).
  const entry = Object.keys(outputs).find((path) => path.endsWith('.js') && new RegExp(`/${command}-[A-Z0-9]+\\.js$`).test(path));
  if (!entry) throw new Error(`no chunk for command "${command}" in the metafile`);
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path) || !outputs[path]) return;
    seen.add(path);
    for (const imported of outputs[path].imports) if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(entry);
  const modules = new Map<string, number>();
  for (const path of seen) for (const [input, { bytesInOutput }] of Object.entries(outputs[path].inputs)) modules.set(input, (modules.get(input) ?? 0) + bytesInOutput);
  return modules;
}

/** The package of a dependency (the innermost node_modules/<package>: nested copies count as theirs), the folder for our own sources. */
export const packageOf = (input: string): string => /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.replace(/\/[^/]+$/, '');

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, files: { type: 'boolean' } } });
  const [file, command] = positionals;
  const modules = modulesLoadedAtStart(JSON.parse(readFileSync(file, 'utf8')) as Metafile, command);
  const groups = new Map<string, number>();
  for (const [input, bytes] of modules) {
    const key = values.files ? input : packageOf(input);
    groups.set(key, (groups.get(key) ?? 0) + bytes);
  }
  const total = [...modules.values()].reduce((sum, bytes) => sum + bytes, 0);
  console.log(`${command}: ${(total / 1024).toFixed(0)} KB of bundled code loaded at start`);
  for (const [name, bytes] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${(bytes / 1024).toFixed(0).padStart(6)} KB  ${name}`);
}
