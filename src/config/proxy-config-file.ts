import { basename } from 'node:path';
import { closestName } from './closest-name.ts';
import { labelOf, optionByTomlKey, PROXY_OPTIONS, tomlKeyOf } from './proxy-options.ts';
import { coerceRaw, type RawValues } from './proxy-raw-value.ts';
import { readTomlFile } from './toml-file.ts';
import { judgeUnsupported, unsupportedByTomlKey, unsupportedTomlKeysOf, UNSUPPORTED_PROXY_OPTIONS, type UnsupportedGiven } from './proxy-unsupported-options.ts';

/**
 * Reads an oauth2-proxy .cfg file (TOML; keys are the flags with underscores, plural for lists).
 * Like oauth2-proxy (viper's UnmarshalExact), a key that means nothing is an error; a list may
 * also be written as one comma-separated string. Unsupported oauth2-proxy keys are judged as they
 * come, and noted in `given`.
 */
export function readProxyConfigFile(path: string, problems: string[], given?: UnsupportedGiven): RawValues {
  const values: RawValues = new Map();
  const table = readTomlFile(path, '--config / OAUTH2_PROXY_CONFIG', problems);
  if (!table) return values;
  const origin = `config file ${basename(path)}`;
  const known = [...PROXY_OPTIONS.filter((option) => !option.noToml).map(tomlKeyOf), ...UNSUPPORTED_PROXY_OPTIONS.flatMap(unsupportedTomlKeysOf)];
  for (const [key, value] of Object.entries(table)) {
    const where = `${key} in ${path}`;
    const option = optionByTomlKey(key);
    if (!option) {
      const unsupported = unsupportedByTomlKey(key);
      if (unsupported) judgeUnsupported(unsupported, `${where} (--${unsupported.flag})`, value, problems, given);
      else {
        const suggestion = closestName(key, known);
        problems.push(`${where}: unknown key${suggestion ? `; did you mean ${suggestion}?` : ''}`);
      }
      continue;
    }
    const raw = coerceRaw(option, value);
    if ('problem' in raw) problems.push(`${labelOf(option)} (${where}): ${raw.problem}`);
    else values.set(option.flag, { value: raw.value, origin });
  }
  return values;
}
