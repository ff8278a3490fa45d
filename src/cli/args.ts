import { parseArgs, type ParseArgsConfig } from 'node:util';
import { badRequest } from '../core/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node's parseArgs in strict mode, with its error turned into a clear AppError naming the flag. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    throw badRequest('invalid_arguments', (error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Prints a value as JSON with --json, else as the text the caller built. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

/**
 * `latchkey <command> <action> [flags]` (user, client, api-key): the action and its flags, or the
 * exit status after printing the help (0 when asked for, 2 when no action was given).
 */
export function parseSubcommand<O extends Options>(argv: string[], options: O, help: string) {
  const [action = '', ...rest] = argv;
  const parsed = parseCommandArgs(rest, options);
  const wantsHelp = !action || action === '--help' || (parsed.values as { help?: boolean }).help === true;
  if (wantsHelp) console.log(help);
  return { exitCode: wantsHelp ? (action ? 0 : 2) : null, action, ...parsed };
}
