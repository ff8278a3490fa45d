import { unknownFlagProblem } from './closest-name.ts';
import { labelOf, optionByFlag, PROXY_OPTIONS } from './proxy-options.ts';
import { rawFromText, type RawValues } from './proxy-raw-value.ts';
import { judgeUnsupported, unsupportedByFlag, UNSUPPORTED_PROXY_OPTIONS, type UnsupportedGiven } from './proxy-unsupported-options.ts';

/**
 * Reads `latchkey proxy` arguments (everything after the command name) the way oauth2-proxy's
 * pflag does: `--name=value` and `--name value`; booleans as a bare `--name` or `--name=true|false`
 * (never `--name false`, which pflag also reads as true plus a stray argument); list options may
 * repeat and split on commas. A repeated single-value option keeps its last value, as in pflag.
 * Unsupported oauth2-proxy options are judged as they come, and noted in `given`.
 */
export function readProxyArgv(argv: readonly string[], problems: string[], given?: UnsupportedGiven): RawValues {
  const values: RawValues = new Map();
  const knownFlags = [...PROXY_OPTIONS.map((option) => option.flag), ...UNSUPPORTED_PROXY_OPTIONS.map((option) => option.flag)];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      for (const extra of argv.slice(i + 1)) problems.push(`unexpected argument "${extra}"`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      problems.push(`unexpected argument "${arg}"${i > 0 && argv[i - 1].startsWith('--') ? `; write ${argv[i - 1].split('=')[0]}=${arg}` : ''}`);
      continue;
    }
    if (!arg.startsWith('--')) {
      // Go's flag package took -name; oauth2-proxy v7 (pflag) does not, and neither do we
      const name = arg.slice(1).split('=')[0];
      problems.push(`${arg.split('=')[0]}: options take two dashes${optionByFlag(name) || unsupportedByFlag(name) ? `: --${name}` : ''}`);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    const option = optionByFlag(name);
    if (!option) {
      const unsupported = unsupportedByFlag(name);
      if (unsupported) {
        // its value is judged too, and taken so that it is not reported again as a stray argument
        let value = inline ?? (unsupported.bool ? 'true' : undefined);
        if (value === undefined && i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
        // a refused value is shown when the message says which one would do (never for other options: it may be a password)
        const showsValue = inline !== undefined && (unsupported.alwaysIs !== undefined || Array.isArray(unsupported.accepts));
        judgeUnsupported(unsupported, showsValue ? `--${name}=${inline}` : `--${name}`, value, problems, given);
        continue;
      }
      problems.push(unknownFlagProblem(name, knownFlags, 'proxy'));
      continue;
    }
    let text = inline;
    if (text === undefined) {
      if (option.kind === 'bool') text = 'true';
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) text = argv[++i];
      else {
        problems.push(`${labelOf(option)}: needs a value (--${name}=VALUE)`);
        continue;
      }
    }
    const raw = rawFromText(option, text);
    if ('problem' in raw) {
      problems.push(`${labelOf(option)}: ${raw.problem}`);
      continue;
    }
    const previous = values.get(option.flag);
    if (option.kind === 'list' && previous && Array.isArray(previous.value) && Array.isArray(raw.value)) previous.value.push(...raw.value);
    else values.set(option.flag, { value: raw.value, origin: 'flag' });
  }
  return values;
}
