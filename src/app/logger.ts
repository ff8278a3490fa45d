import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';

/** Where log lines go: anything with write(line). */
export interface LogDestination {
  write(line: string): unknown;
}

// JSON lines: what log shippers and `docker logs | jq` expect. On a terminal the same lines are
// printed readably (prettyLine). Secrets never reach the logger: request logging is off (fastify's
// "incoming request" line would carry req.url, and with it a link's token), a request is named
// by its route's pattern or by urlForLog (core/url-secrets.ts), and the redaction list catches the headers and fields
// that carry credentials.
export function createLogger(level: string, enabled: boolean, destination?: LogDestination): FastifyBaseLogger {
  const options = {
    level: enabled ? level : 'silent',
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-api-key"]', '*.token', '*.secret', '*.password'],
      censor: '[redacted]',
    },
  };
  const out = destination ?? (process.stdout.isTTY ? prettyDestination(process.stdout) : undefined);
  return out ? pino(options, out) : pino(options);
}

const LEVELS: Record<number, [name: string, color: number]> = {
  10: ['TRACE', 90], 20: ['DEBUG', 36], 30: ['INFO', 32], 40: ['WARN', 33], 50: ['ERROR', 31], 60: ['FATAL', 35],
};
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'reqId']);

/** One JSON log line as a person reads it: time, level, message, then the fields as key=value. */
export function prettyLine(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const [name, code] = LEVELS[Number(entry.level)] ?? [String(entry.level), 0];
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const paint = (text: string, c: number) => (color && c ? `\x1b[${c}m${text}\x1b[0m` : text);
  const fields = Object.entries(entry).filter(([key]) => !OMIT.has(key)).map(([key, value]) => {
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: string; stack?: string };
      return `\n  ${err.stack ?? err.message ?? JSON.stringify(value)}`;
    }
    return ` ${paint(key, 90)}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
  });
  const reqId = entry.reqId ? ` ${paint(`[${String(entry.reqId)}]`, 90)}` : '';
  return `${time} ${paint(name.padEnd(5), code)} ${String(entry.msg ?? '')}${fields.join('')}${reqId}\n`;
}

function prettyDestination(stream: NodeJS.WriteStream): LogDestination {
  const color = stream.hasColors?.() ?? false;
  return { write: (line: string) => stream.write(prettyLine(line, color)) };
}
