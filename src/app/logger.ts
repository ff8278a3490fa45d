import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';

// JSON lines: what log shippers and `docker logs | jq` expect. Secrets never reach the logger:
// request logging is off, and the redaction list catches the headers that carry credentials.
export function createLogger(level: string, enabled: boolean): FastifyBaseLogger {
  return pino({
    level: enabled ? level : 'silent',
    redact: { paths: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-api-key"]', '*.token', '*.secret'], censor: '[redacted]' },
  });
}
