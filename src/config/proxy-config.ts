import type { ProxyConfig } from '../proxy/config.ts';
import { buildProxyConfigFromRaw } from './build-proxy-config.ts';
import { closestName } from './closest-name.ts';
import { readProxyArgv } from './proxy-argv.ts';
import { readProxyConfigFile } from './proxy-config-file.ts';
import { readProxyEnv } from './proxy-env.ts';
import { optionByFlag, PROXY_OPTIONS } from './proxy-options.ts';
import { coerceRaw, type RawValues } from './proxy-raw-value.ts';
import { ConfigError, type Env } from './problems.ts';
import { settleUnsupported, type UnsupportedGiven } from './proxy-unsupported-options.ts';

// `latchkey proxy` configuration: oauth2-proxy v7's flags, OAUTH2_PROXY_* variables and TOML
// keys, with its precedence (flag > environment > config file > default). docs/configuration-proxy.md
// lists every option and where latchkey differs.

export { proxyHelpText } from './proxy-help.ts';

/**
 * Reads the proxy's configuration from `argv` (the arguments after `latchkey proxy`; the caller
 * handles --help) and `env`. Throws one ConfigError listing every problem found.
 */
export function loadProxyConfig(input: { argv: string[]; env: Env }): Readonly<ProxyConfig> {
  const problems: string[] = [];
  const unsupported: UnsupportedGiven = new Map();
  const flags = readProxyArgv(input.argv, problems, unsupported);
  const environment = readProxyEnv(input.env, problems, unsupported);
  const configPath = pickString(flags, environment, 'config');
  const file = configPath ? readProxyConfigFile(configPath, problems, unsupported) : new Map();
  const warnings = settleUnsupported(unsupported, problems);
  // flag > environment > config file; defaults are applied by the builder
  const merged: RawValues = new Map([...file, ...environment, ...flags]);
  return finish(buildProxyConfigFromRaw(merged, problems), problems, warnings);
}

/** Option values keyed by flag name, as they would be written in a TOML file. */
export type ProxyOptionValues = Readonly<Record<string, string | boolean | number | readonly string[]>>;

/**
 * Builds a proxy configuration in-process (`latchkey serve`) with the same defaults and checks as
 * `latchkey proxy`: `buildProxyConfig({ 'client-id': 'site', 'email-domain': ['*'], … })`.
 */
export function buildProxyConfig(options: ProxyOptionValues): Readonly<ProxyConfig> {
  const problems: string[] = [];
  const raw: RawValues = new Map();
  for (const [flag, value] of Object.entries(options)) {
    const option = optionByFlag(flag);
    if (!option || flag === 'config') {
      const suggestion = closestName(flag, PROXY_OPTIONS.map((known) => known.flag));
      problems.push(`${flag}: not a proxy option here${suggestion && suggestion !== flag ? `; did you mean ${suggestion}?` : ''}`);
      continue;
    }
    const coerced = coerceRaw(option, value);
    if ('problem' in coerced) problems.push(`--${flag}: ${coerced.problem}`);
    else raw.set(flag, { value: coerced.value, origin: 'options' });
  }
  return finish(buildProxyConfigFromRaw(raw, problems), problems);
}

function pickString(flags: RawValues, environment: RawValues, flag: string): string | undefined {
  const value = (flags.get(flag) ?? environment.get(flag))?.value;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function finish(config: ProxyConfig, problems: string[], warnings: string[] = []): Readonly<ProxyConfig> {
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    ...config,
    warnings: Object.freeze(warnings),
    cookie: Object.freeze(config.cookie),
    httpAddress: Object.freeze(config.httpAddress),
    scopes: Object.freeze(config.scopes) as string[],
  });
}
