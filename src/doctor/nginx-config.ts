// Reads an nginx configuration (a file with its includes, or the output of `nginx -T`) into a tree
// of directives, and answers the questions the doctor asks of it: which locations are protected,
// which proxy, what headers and buffer sizes are in effect there (with nginx's inheritance rules).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

export interface Directive {
  name: string;
  args: string[];
  block: Directive[] | null;
  file: string;
  line: number;
}

export interface NginxConfig {
  /** Where it came from: a path, or "nginx -T". */
  source: string;
  root: Directive[];
}

/** Lua's long brackets: [[ … ]], [=[ … ]=] …; the length of the opening bracket, or 0. */
function longBracketAt(text: string, i: number): number {
  const match = /^\[=*\[/.exec(text.slice(i, i + 64));
  return match ? match[0].length : 0;
}

/**
 * The Lua source of a `*_by_lua_block { … }` (lua-nginx-module), read with Lua's rules for
 * strings and comments, as nginx does: a "}" inside a Lua string or a "#" (Lua's length operator)
 * is no nginx syntax. `start` is just past the "{"; returns the source and the index past the "}".
 */
function readLuaBlock(text: string, start: number, file: string, line: number): { source: string; end: number; lines: number } {
  let depth = 0;
  let i = start;
  const skipLong = (from: number, open: number) => {
    const close = `]${'='.repeat(open - 2)}]`;
    const end = text.indexOf(close, from + open);
    if (end < 0) throw new Error(`${file}:${line}: a Lua long string or comment is never closed`);
    return end + close.length;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const open = longBracketAt(text, i + 2);
      if (open) { i = skipLong(i + 2, open); continue; }
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '[') {
      const open = longBracketAt(text, i);
      if (open) { i = skipLong(i, open); continue; }
    }
    if (c === '{') depth++;
    if (c === '}') {
      if (depth === 0) {
        const source = text.slice(start, i);
        return { source, end: i + 1, lines: source.split('\n').length - 1 };
      }
      depth--;
    }
    i++;
  }
  throw new Error(`${file}:${line}: a Lua block is never closed`);
}

/** Splits configuration text into directives; unbalanced braces are reported, not guessed at. */
export function parseNginx(text: string, file: string): Directive[] {
  const stack: Directive[][] = [[]];
  let words: string[] = [];
  let wordLine = 1;
  let line = 1;
  let i = 0;
  const push = (block: Directive[] | null) => {
    if (!words.length) throw new Error(`${file}:${line}: "${block ? '{' : ';'}" without a directive`);
    const directive: Directive = { name: words[0], args: words.slice(1), block, file, line: wordLine };
    stack[stack.length - 1].push(directive);
    words = [];
    return directive;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') line++;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === ';') { push(null); i++; continue; }
    if (c === '{' && words.length === 1 && words[0].endsWith('_by_lua_block')) {
      // Lua, not nginx: kept whole as the directive's one argument
      const lua = readLuaBlock(text, i + 1, file, line);
      words.push(lua.source);
      push(null);
      line += lua.lines;
      i = lua.end;
      continue;
    }
    if (c === '{') { const d = push([]); stack.push(d.block!); i++; continue; }
    if (c === '}') {
      if (words.length) throw new Error(`${file}:${line}: missing ";" before "}"`);
      if (stack.length === 1) throw new Error(`${file}:${line}: unexpected "}"`);
      stack.pop(); i++; continue;
    }
    if (!words.length) wordLine = line;
    let word = '';
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) {
        // nginx unescapes only quotes and backslashes; "\." in a quoted regex stays as written
        if (text[i] === '\\' && ['"', "'", '\\'].includes(text[i + 1])) { word += text[i + 1]; i += 2; continue; }
        if (text[i] === '\n') line++;
        word += text[i++];
      }
      i++;
    } else {
      while (i < text.length && !/[\s;{}]/.test(text[i])) {
        // a "{" inside a word (a regex quantifier, ${var}) belongs to the word
        if (text[i] === '$' && text[i + 1] === '{') { const end = text.indexOf('}', i); word += text.slice(i, end + 1); i = end + 1; continue; }
        word += text[i++];
      }
    }
    words.push(word);
  }
  if (stack.length > 1) throw new Error(`${file}: a "{" is never closed`);
  if (words.length) throw new Error(`${file}: the last directive has no ";"`);
  return stack[0];
}

const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/** Replaces `include` directives by the directives of the files they name, as nginx does. */
function expandIncludes(directives: Directive[], resolve: (pattern: string, from: string) => { file: string; text: string }[], depth = 0): Directive[] {
  if (depth > 10) throw new Error('include nesting deeper than 10 levels');
  return directives.flatMap((d) => {
    if (d.name === 'include' && !d.block && d.args[0]) {
      return resolve(d.args[0], d.file).flatMap(({ file, text }) => expandIncludes(parseNginx(text, file), resolve, depth + 1));
    }
    return [d.block ? { ...d, block: expandIncludes(d.block, resolve, depth) } : d];
  });
}

/** Reads a configuration file and the files it includes (relative names: from the file's folder). */
export function readNginxFile(path: string): NginxConfig {
  const base = dirname(path);
  const resolve = (pattern: string) => {
    const full = isAbsolute(pattern) ? pattern : join(base, pattern);
    if (!full.includes('*') && !full.includes('?')) return existsSync(full) ? [{ file: full, text: readFileSync(full, 'utf8') }] : [];
    const dir = dirname(full);
    if (!existsSync(dir)) return [];
    const match = globToRegExp(basename(full));
    return readdirSync(dir).filter((n) => match.test(n)).sort().map((n) => join(dir, n))
      .filter((f) => statSync(f).isFile()).map((f) => ({ file: f, text: readFileSync(f, 'utf8') }));
  };
  return { source: path, root: expandIncludes(parseNginx(readFileSync(path, 'utf8'), path), resolve) };
}

/** Reads `nginx -T` output: every file nginx loaded, each after "# configuration file PATH:". */
export function readNginxDump(dump: string): NginxConfig {
  const files = new Map<string, string>();
  const parts = dump.split(/^# configuration file (.+):\r?$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) files.set(parts[i].trim(), parts[i + 1]);
  const [main] = files.keys();
  if (!main) throw new Error('this is not the output of nginx -T (no "# configuration file" lines)');
  const resolve = (pattern: string, from: string) => {
    const full = isAbsolute(pattern) ? pattern : join(dirname(from), pattern);
    const match = globToRegExp(full);
    return [...files].filter(([file]) => match.test(file)).map(([file, text]) => ({ file, text }));
  };
  return { source: 'nginx -T', root: expandIncludes(parseNginx(files.get(main)!, main), resolve) };
}

// --- questions about the tree ----------------------------------------------------------------

export interface Location {
  /** '', '=', '^~', '~', '~*' or '@' for a named location. */
  modifier: string;
  path: string;
  directive: Directive;
  /** The enclosing blocks, innermost last (location…, server, http). */
  parents: Directive[];
  server: Server;
}

export interface Server {
  directive: Directive;
  names: string[];
  listens: string[];
  locations: Location[];
  /** The blocks around the server (http), innermost last. */
  parents: Directive[];
}

export const where = (d: Directive): string => `${d.file}:${d.line}`;
export const argsOf = (block: Directive[] | null, name: string): string[][] => (block ?? []).filter((d) => d.name === name).map((d) => d.args);

function collectLocations(block: Directive[], parents: Directive[], server: Server, out: Location[]): void {
  for (const d of block) {
    if (d.name !== 'location' || !d.block) continue;
    const [first, second] = d.args;
    const modifier = second !== undefined ? first : first.startsWith('@') ? '@' : '';
    const path = second !== undefined ? second : first;
    out.push({ modifier, path, directive: d, parents, server });
    collectLocations(d.block, [...parents, d], server, out);
  }
}

export function servers(config: NginxConfig): Server[] {
  const found: Server[] = [];
  const walk = (block: Directive[], parents: Directive[]) => {
    for (const d of block) {
      if (!d.block) continue;
      if (d.name === 'server' && !parents.some((p) => p.name === 'upstream' || p.name === 'stream')) {
        const server: Server = { directive: d, names: argsOf(d.block, 'server_name').flat(), listens: argsOf(d.block, 'listen').map((a) => a.join(' ')), locations: [], parents };
        collectLocations(d.block, [d], server, server.locations);
        found.push(server);
      } else if (d.name !== 'upstream' && d.name !== 'stream') walk(d.block, [...parents, d]);
    }
  };
  walk(config.root, []);
  return found;
}

/** The blocks whose settings apply in a location, innermost first: location(s), server, http. */
export const scopes = (location: Location): Directive[] => [location.directive, ...[...location.parents].reverse(), ...[...location.server.parents].reverse()];

/**
 * An array-type directive (proxy_set_header, add_header, error_page…) as nginx inherits it: the
 * innermost block that has any of it wins entirely; outer ones are forgotten.
 */
export function inherited(location: Location, name: string): { args: string[][]; from: Directive | null } {
  for (const scope of scopes(location)) {
    const args = argsOf(scope.block, name);
    if (args.length) return { args, from: scope };
  }
  return { args: [], from: null };
}

/**
 * A location whose requests something must allow: auth_request, or a Lua access handler (the
 * Lua engine of latchkey's auth cache asks the proxy from access_by_lua_block).
 */
export const isProtected = (location: Location): boolean =>
  argsOf(location.directive.block, 'auth_request').some((a) => a[0] && a[0] !== 'off') ||
  (location.directive.block ?? []).some((d) => /^access_by_lua(_block|_file)?$/.test(d.name));
export const proxiesTo = (location: Location): string | null => argsOf(location.directive.block, 'proxy_pass')[0]?.[0] ?? null;
export const isRegex = (location: Location): boolean => location.modifier === '~' || location.modifier === '~*';

/**
 * The port a server takes HTTPS on: its one `listen … ssl` (or quic) port, whatever the address
 * (`443 ssl`, `127.0.0.1:8443 ssl http2`, `[::]:443 ssl`). Null when it has none (TLS ends
 * elsewhere) or several: then the port visitors use cannot be read from the file.
 */
export function httpsPortOf(server: Server): number | null {
  const ports = new Set<number>();
  for (const listen of server.listens) {
    const [address = '', ...flags] = listen.split(/\s+/);
    if (!flags.includes('ssl') && !flags.includes('quic')) continue;
    if (address.startsWith('unix:')) return null;
    const port = /^(?:\d+|.*:(\d+))$/.exec(address);
    // `listen example.com ssl;` (no port) listens on 80, as nginx reads it
    ports.add(port ? Number(port[1] ?? address) : 80);
  }
  return ports.size === 1 ? [...ports][0] : null;
}

const decodeQuery = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text; // a stray "%": nginx passes it on as written
  }
};

/**
 * Where the configuration asks the proxy for group membership: `/oauth2/auth?allowed_groups=…`
 * in a proxy_pass or auth_request (what latchkey generate nginx writes for --protect P=G), or in
 * the Lua of an access_by_lua_block (its Lua auth cache, which asks the proxy itself).
 */
export function groupRules(config: NginxConfig): { groups: string[]; where: string }[] {
  const found: { groups: string[]; where: string }[] = [];
  const walk = (block: Directive[]) => {
    for (const d of block) {
      for (const arg of d.name === 'proxy_pass' || d.name === 'auth_request' ? d.args : []) {
        const match = /[?&]allowed_groups=([^&#]*)/.exec(arg);
        if (match) found.push({ groups: decodeQuery(match[1]).split(',').filter(Boolean), where: where(d) });
      }
      // in Lua the query sits inside a string: it ends at the quote
      if (d.name === 'access_by_lua_block')
        for (const match of (d.args[0] ?? '').matchAll(/\/oauth2\/auth\?(?:[^"'\s]*&)?allowed_groups=([^&#"'\s]*)/g))
          found.push({ groups: decodeQuery(match[1]).split(',').filter(Boolean), where: where(d) });
      if (d.block) walk(d.block);
    }
  };
  walk(config.root);
  return found;
}

/** nginx sizes like 4k, 1m, 128 → bytes. */
export function parseSize(text: string): number | null {
  const match = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!match) return null;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * unit;
}

/** The location a URI (as in error_page or auth_request) lands in, by nginx's matching order. */
export function matchLocation(server: Server, uri: string): Location | null {
  const path = uri.split('?')[0];
  if (path.startsWith('@')) return server.locations.find((l) => l.modifier === '@' && l.path === path) ?? null;
  const top = server.locations;
  const exact = top.find((l) => l.modifier === '=' && l.path === path);
  if (exact) return exact;
  const prefixes = top.filter((l) => (l.modifier === '' || l.modifier === '^~') && path.startsWith(l.path)).sort((a, b) => b.path.length - a.path.length);
  const longest = prefixes[0];
  if (longest?.modifier === '^~') return longest;
  for (const l of top.filter(isRegex)) {
    try {
      if (new RegExp(l.path, l.modifier === '~*' ? 'i' : '').test(path)) return l;
    } catch { /* a PCRE-only regex: nginx -t would have said so */ }
  }
  return longest ?? null;
}
