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
