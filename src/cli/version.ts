import { readFileSync } from 'node:fs';

export const latchkeyVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function run(): Promise<number> {
  console.log(`latchkey ${latchkeyVersion()} (node ${process.version})`);
  return 0;
}
