import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';

/**
 * Reads and parses a TOML file. A missing file or a syntax error becomes one problem naming the
 * file and, for syntax errors, the line and column, since that is all anyone needs to fix it.
 */
export function readTomlFile(path: string, label: string, problems: string[]): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${label}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return null;
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split('\n')[0];
      problems.push(`${label}: ${path} line ${error.line}, column ${error.column}: ${firstLine}`);
    } else {
      problems.push(`${label}: ${path} is not valid TOML`);
    }
    return null;
  }
}
