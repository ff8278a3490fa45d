import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, prettyLine } from '../../src/app/logger.ts';

describe('logger', () => {
  it('writes JSON lines to a destination that is not a terminal', () => {
    const lines: string[] = [];
    createLogger('info', true, { write: (line) => void lines.push(line) }).info({ userId: 'u1' }, 'signed in');
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(entry.msg, 'signed in');
    assert.equal(entry.userId, 'u1');
  });

  it('redacts credential headers and token fields', () => {
    const lines: string[] = [];
    createLogger('info', true, { write: (line) => void lines.push(line) }).info({ req: { headers: { cookie: 'session=abc123', authorization: 'Bearer xyz789' } }, link: { token: 'tok456' } }, 'x');
    assert.doesNotMatch(lines[0], /abc123|xyz789|tok456/);
  });

  it('prints a log line readably: time, level, message, fields and request id', () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2025, 0, 2, 3, 4, 5, 678), pid: 1, hostname: 'h', reqId: 'r-1', userId: 'u1', msg: 'signed in' });
    assert.equal(prettyLine(line), '03:04:05.678 INFO  signed in userId=u1 [r-1]\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    assert.equal(prettyLine('plain text'), 'plain text\n');
  });
});
