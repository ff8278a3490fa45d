import { envNameOf, PROXY_OPTIONS, tomlKeyOf, type ProxyOption } from './proxy-options.ts';

/** `latchkey proxy --help`: every option with its variable, TOML key and default, by group. */
export function proxyHelpText(): string {
  const lines = [
    'Usage: latchkey proxy [options]',
    '',
    'oauth2-proxy v7 compatible: every option is also OAUTH2_PROXY_<NAME> in the environment and',
    '<name> in a --config TOML file. Precedence: flag > environment > file > default.',
    'Repeatable options take several values (--email-domain=a --email-domain=b, or commas).',
  ];
  let group = '';
  for (const option of PROXY_OPTIONS) {
    if (option.group !== group) {
      group = option.group;
      lines.push('', `${group}:`);
    }
    const value = option.kind === 'bool' ? '' : option.kind === 'list' ? '=VALUE…' : '=VALUE';
    const names = [envNameOf(option), option.noToml ? null : `toml ${tomlKeyOf(option)}`].filter(Boolean).join(', ');
    lines.push(`  --${option.flag}${value}`);
    lines.push(`      ${option.help}${defaultNote(option)}${option.latchkeyOnly ? ' [latchkey]' : ''}`);
    lines.push(`      ${names}`);
  }
  lines.push('', 'See docs/configuration-proxy.md for details and the differences from oauth2-proxy.');
  return lines.join('\n') + '\n';
}

const defaultNote = (option: ProxyOption): string => (option.defaultText === '' ? '' : ` (default ${option.defaultText})`);
