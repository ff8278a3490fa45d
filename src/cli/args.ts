import { parseArgs, type ParseArgsConfig } from 'node:util';
import { badRequest, type AppError } from '../core/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * A wrong command line. main.ts prints the message on stderr and exits 2, as it does for an unknown
 * command, so a script can tell "you called me wrong" (2) from "it failed" (1).
 */
export const usageError = (message: string): AppError => badRequest('invalid_arguments', message);

/** node's parseArgs in strict mode, with its error turned into a usage error naming the flag. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    throw usageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/**
 * Help that was asked for (--help) is the command's output: stdout, exit 0. Help shown because the
 * command line was wrong belongs with the error instead: throw usageError(`… \n\n${HELP}`).
 */
export function printHelp(help: string): 0 {
  console.log(help);
  return 0;
}

/** Prints a value as JSON with --json, else as the text the caller built. */
export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

/**
 * `latchkey <command> <action> [flags]` (user, client, api-key): the action (one of `actions`) and
 * its flags, or exitCode 0 after printing the help that --help asked for. No action, or one the
 * command does not have, is a usage error: reported before the command opens the database.
 */
export function parseSubcommand<O extends Options, A extends string>(argv: string[], options: O, help: string, actions: readonly A[]) {
  const [action = '', ...rest] = argv;
  if (action === '--help' || action === '-h') return { exitCode: printHelp(help), action: null, ...parseCommandArgs([], options) };
  if (!action) throw usageError(`name an action\n\n${help}`);
  if (!(actions as readonly string[]).includes(action)) throw usageError(`unknown action "${action}"\n\n${help}`);
  const parsed = parseCommandArgs(rest, options);
  if ((parsed.values as { help?: boolean }).help === true) return { exitCode: printHelp(help), action: null, ...parsed };
  return { exitCode: null, action: action as A, ...parsed };
}

/** The single argument an action takes (`client show ID`); a usage error naming it when absent. */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length === 0) throw usageError(`missing the ${what}: ${usage}`);
  if (positionals.length > 1) throw usageError(`expected one ${what}, got ${positionals.length} (${positionals.join(' ')}): ${usage}`);
  return positionals[0];
}

/** An action that takes no argument (`client list`): a stray one is a usage error, not ignored. */
export function noPositionals(positionals: string[], usage: string): void {
  if (positionals.length > 0) throw usageError(`unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals.map((p) => `"${p}"`).join(' ')}: ${usage}`);
}
