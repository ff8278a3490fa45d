import { readFileSync } from 'node:fs';
import { parseCommandArgs, print, printHelp } from './args.ts';

export const latchkeyVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `usage: latchkey version [--db FILE|postgres://…] [--json]

Prints latchkey's version and the newest schema migration it brings. With --db, also the schema of
that database (read only, nothing is migrated) and the migrations latchkey id would apply on start.`;

export async function run(argv: string[] = []): Promise<number> {
  const { values } = parseCommandArgs(argv, { db: { type: 'string' } }, false);
  if (values.help) return printHelp(HELP);
  // On demand: the proxy imports latchkeyVersion from this file (src/cli/version-schema.ts says why).
  const { databaseSchema, knownMigrations, newerDatabaseSentence } = await import('./version-schema.ts');
  const known = await knownMigrations();
  const result = {
    version: latchkeyVersion(), node: process.version, schema: known.at(-1) ?? null,
    database: values.db ? await databaseSchema(values.db, known) : undefined,
  };
  print(values.json, result, () => {
    const lines = [`latchkey ${result.version} (node ${result.node}), schema ${result.schema}`];
    const d = result.database;
    if (d) {
      lines.push(`database schema: ${d.current ?? 'empty (never migrated)'} (${d.applied.length} migrations applied)`);
      if (d.pending.length) lines.push(`latchkey id applies on start: ${d.pending.join(', ')} (take a backup first: migrations are forward-only)`);
      if (d.unknown.length) lines.push(newerDatabaseSentence(d.unknown));
    }
    return lines.join('\n');
  });
  return 0;
}
