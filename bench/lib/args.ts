// The benchmark scripts' command lines: --help prints the usage lines of the script's own header
// comment ("//   node bench/…"), and an unknown flag or a number that is not one stops the script
// with that usage instead of a stack trace or a run with NaN seconds.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

function usageOf(scriptUrl: string): string {
  const usage: string[] = [];
  for (const line of readFileSync(new URL(scriptUrl), 'utf8').split('\n')) {
    if (/^\/\/ {2,}node bench\//.test(line)) usage.push(`usage: ${line.replace(/^\/\/\s+/, '')}`);
    // a usage line's continuation, indented under its flags
    else if (usage.length && /^\/\/ {10,}\S/.test(line)) usage.push(line.replace(/^\/\//, '    '));
    else if (usage.length) break;
  }
  return usage.join('\n');
}

function refuse(scriptUrl: string, problem: string): never {
  process.stderr.write(`${problem}\n${usageOf(scriptUrl)}\n`);
  process.exit(2);
}

/** The flags of the script at `scriptUrl` (its import.meta.url), as node:util's parseArgs reads them. */
export function benchArgs<T extends ParseArgsOptionsConfig>(scriptUrl: string, options: T) {
  if (process.argv.slice(2).includes('--help')) {
    process.stdout.write(`${usageOf(scriptUrl)}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options, strict: true }).values;
  } catch (error) {
    return refuse(scriptUrl, (error as Error).message);
  }
}

/** A flag's value as a whole number of at least `min`. */
export function wholeNumber(scriptUrl: string, flag: string, text: unknown, min = 1): number {
  const value = Number(text);
  if (typeof text !== 'string' || !/^\d+$/.test(text) || value < min) refuse(scriptUrl, `--${flag}: expected a whole number of at least ${min}, got ${JSON.stringify(text)}`);
  return value;
}
