import { closestName } from './closest-name.ts';
import { readEnv } from './env.ts';
import { envNameOf, labelOf, optionByEnvName, PROXY_OPTIONS } from './proxy-options.ts';
import { rawFromText, type RawValues } from './proxy-raw-value.ts';
import { judgeUnsupported, unsupportedByEnvName, unsupportedEnvNamesOf, UNSUPPORTED_PROXY_OPTIONS, type UnsupportedGiven } from './proxy-unsupported-options.ts';
import type { Env } from './problems.ts';

const PREFIX = 'OAUTH2_PROXY_';

// Kubernetes gives every pod Docker-link-style variables for each Service of its namespace, named
// after the Service in capitals with '_' for '-' (the port's name likewise), and the usual Service
// names start with oauth2-proxy: "oauth2-proxy" itself, and the Helm chart's "oauth2-proxy-redis-master"
// and the like. The operator never wrote them, so they are not typos to refuse; each is recognised
// by its name and its value together, so a variable someone did write is still judged.
//   <S>_SERVICE_HOST=10.96.0.12  <S>_SERVICE_PORT=80  <S>_SERVICE_PORT_<NAME>=80  <S>_PORT=tcp://10.96.0.12:80
//   <S>_PORT_80_TCP=tcp://10.96.0.12:80  <S>_PORT_80_TCP_PROTO=tcp  <S>_PORT_80_TCP_PORT=80  <S>_PORT_80_TCP_ADDR=10.96.0.12
const SERVICE = 'OAUTH2_PROXY_(?:[A-Z0-9_]+_)?';
const IPV4 = '\\d{1,3}(?:\\.\\d{1,3}){3}';
const IPV6 = '[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}';
const PORT = '\\d{1,5}';
const PROTOCOL = '(?:TCP|UDP|SCTP)';
const shape = (name: string, value: string): [RegExp, RegExp] => [new RegExp(`^${SERVICE}${name}$`), new RegExp(`^(?:${value})$`)];
const SERVICE_LINK_SHAPES: readonly [name: RegExp, value: RegExp][] = [
  shape('SERVICE_HOST', `${IPV4}|${IPV6}`),
  shape('SERVICE_PORT(?:_[A-Z0-9_]+)?', PORT),
  shape(`PORT(?:_${PORT}_${PROTOCOL})?`, `(?:tcp|udp|sctp)://(?:${IPV4}|\\[${IPV6}\\]):${PORT}`),
  shape(`PORT_${PORT}_${PROTOCOL}_PROTO`, 'tcp|udp|sctp'),
  shape(`PORT_${PORT}_${PROTOCOL}_PORT`, PORT),
  shape(`PORT_${PORT}_${PROTOCOL}_ADDR`, `${IPV4}|${IPV6}`),
];
const isKubernetesServiceLink = (name: string, value: string | undefined): boolean =>
  value !== undefined && SERVICE_LINK_SHAPES.some(([nameShape, valueShape]) => nameShape.test(name) && valueShape.test(value));

/**
 * Reads OAUTH2_PROXY_* variables. oauth2-proxy ignores a variable it does not know, so a typo
 * (OAUTH2_PROXY_EMAIL_DOMAIN for OAUTH2_PROXY_EMAIL_DOMAINS) silently drops a setting; here every
 * OAUTH2_PROXY_* variable must mean something. NAME_FILE (Docker/Kubernetes secrets) works for
 * every string option, as in `latchkey id`; for the two secrets, OAUTH2_PROXY_CLIENT_SECRET_FILE
 * and OAUTH2_PROXY_COOKIE_SECRET_FILE are oauth2-proxy's own --*-secret-file options anyway.
 * Unsupported oauth2-proxy variables are judged as they come, and noted in `given`.
 */
export function readProxyEnv(env: Env, problems: string[], given?: UnsupportedGiven): RawValues {
  const values: RawValues = new Map();
  const fileVariables = new Set<string>();
  for (const option of PROXY_OPTIONS) {
    const name = envNameOf(option);
    const fileVariable = `${name}_FILE`;
    const hasOwnFileOption = optionByEnvName(fileVariable) !== undefined;
    let text: string | undefined;
    if ((option.kind === 'string' || option.kind === 'secret') && !hasOwnFileOption) {
      fileVariables.add(fileVariable);
      text = readEnv(env, name, problems);
    } else {
      text = env[name] === '' ? undefined : env[name];
    }
    if (text === undefined) continue;
    const raw = rawFromText(option, text);
    if ('problem' in raw) problems.push(`${labelOf(option)}: ${raw.problem}`);
    else values.set(option.flag, { value: raw.value, origin: 'environment' });
  }

  const known = [...PROXY_OPTIONS.map(envNameOf), ...UNSUPPORTED_PROXY_OPTIONS.flatMap(unsupportedEnvNamesOf)];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX) || optionByEnvName(name) || fileVariables.has(name)) continue;
    const unsupported = unsupportedByEnvName(name);
    if (unsupported) {
      judgeUnsupported(unsupported, `${name} (--${unsupported.flag})`, env[name], problems, given);
      continue;
    }
    if (isKubernetesServiceLink(name, env[name])) continue;
    const suggestion = closestName(name, known);
    problems.push(`${name}: unknown variable${suggestion ? `; did you mean ${suggestion}?` : ''} (latchkey proxy --help lists them all)`);
  }
  return values;
}
