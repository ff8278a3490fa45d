// --skip-auth-route entries, parsed as oauth2-proxy parses them (oauthproxy.go
// buildRoutesAllowlist): split once at the first "=" (or "!="); the left side is an HTTP method,
// the right a path regex; without "=" the whole entry is a path regex for every method.

export interface SkipAuthRoute {
  method: string | null;
  pathPattern: RegExp;
}

export function parseSkipAuthRoute(entry: string): SkipAuthRoute | { problem: string } {
  const separator = /!?=/.exec(entry);
  if (separator?.[0] === '!=') {
    // oauth2-proxy's negated form skips sign-in for every path NOT matching; refusing it is
    // safer than reading it as a plain route and opening the wrong paths
    return { problem: `"${entry}": the negated form (METHOD!=regex) is not supported by latchkey; list the public paths instead` };
  }
  const method = separator ? entry.slice(0, separator.index).trim().toUpperCase() : '';
  const pattern = separator ? entry.slice(separator.index + 1) : entry;
  if (method && !/^[A-Z]+$/.test(method)) {
    return { problem: `"${entry}": "${method}" before "=" is not an HTTP method; write METHOD=^/regex or ^/regex` };
  }
  const pathPattern = compileGoRegex(pattern);
  if ('problem' in pathPattern) return { problem: `"${entry}": ${pathPattern.problem}` };
  return { method: method || null, pathPattern: pathPattern.regex };
}

/**
 * Compiles a Go (RE2) regex as a JavaScript one. The common syntax is the same; the two Go-only
 * spellings seen in real configurations are translated: a leading (?i) becomes the i flag, and
 * (?P<name>…) becomes (?<name>…).
 */
export function compileGoRegex(source: string): { regex: RegExp } | { problem: string } {
  let flags = '';
  let body = source;
  if (body.startsWith('(?i)')) {
    flags = 'i';
    body = body.slice(4);
  }
  body = body.replaceAll('(?P<', '(?<');
  try {
    return { regex: new RegExp(body, flags) };
  } catch (error) {
    return { problem: `not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')})` };
  }
}
