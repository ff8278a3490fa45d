import { closestName } from './closest-name.ts';
import { readEnv } from './env.ts';
import { envNameOf, labelOf, optionByEnvName, PROXY_OPTIONS } from './proxy-options.ts';
import { rawFromText, type RawValues } from './proxy-raw-value.ts';
import { unsupportedByEnvName, unsupportedEnvNamesOf, unsupportedProblem, UNSUPPORTED_PROXY_OPTIONS } from './proxy-unsupported-options.ts';
import type { Env } from './problems.ts';

const PREFIX = 'OAUTH2_PROXY_';

// Kubernetes gives every pod of a namespace Docker-link-style variables for each Service in it,
// named after the Service: one called "oauth2-proxy", the usual name, yields OAUTH2_PROXY_SERVICE_HOST,
// OAUTH2_PROXY_SERVICE_PORT(_<PORT NAME>), OAUTH2_PROXY_PORT and OAUTH2_PROXY_PORT_<n>_<TCP|UDP|SCTP>
// (_ADDR, _PORT, _PROTO). The operator never wrote them, so they are not typos to refuse.
const KUBERNETES_SERVICE_LINK = /^OAUTH2_PROXY_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT(?:_\d+_(?:TCP|UDP|SCTP)(?:_ADDR|_PORT|_PROTO)?)?)$/;

/**
 * Reads OAUTH2_PROXY_* variables. oauth2-proxy ignores a variable it does not know, so a typo
 * (OAUTH2_PROXY_EMAIL_DOMAIN for OAUTH2_PROXY_EMAIL_DOMAINS) silently drops a setting; here every
 * OAUTH2_PROXY_* variable must mean something. NAME_FILE (Docker/Kubernetes secrets) works for
 * every string option, as in `latchkey id`; for the two secrets, OAUTH2_PROXY_CLIENT_SECRET_FILE
 * and OAUTH2_PROXY_COOKIE_SECRET_FILE are oauth2-proxy's own --*-secret-file options anyway.
 */
export function readProxyEnv(env: Env, problems: string[]): RawValues {
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
    if (!name.startsWith(PREFIX) || optionByEnvName(name) || fileVariables.has(name) || KUBERNETES_SERVICE_LINK.test(name)) continue;
    const unsupported = unsupportedByEnvName(name);
    if (unsupported) {
      const problem = unsupportedProblem(unsupported, `${name} (--${unsupported.flag})`, env[name]);
      if (problem) problems.push(problem);
      continue;
    }
    const suggestion = closestName(name, known);
    problems.push(`${name}: unknown variable${suggestion ? `; did you mean ${suggestion}?` : ''} (latchkey proxy --help lists them all)`);
  }
  return values;
}
