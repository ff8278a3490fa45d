// A backend outage is told in a few lines, however many requests fail: the first failure with
// its cause, one line per interval with the count, and one when the backend answers again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../src/core/clock.ts';
import { AppError } from '../../src/core/errors.ts';
import { BackendUnavailableError, createOutageLog, isCountedOutage } from '../../src/core/outage-log.ts';

type Line = { level: 'error' | 'warn' | 'info'; fields: Record<string, unknown>; message: string };

function outage(summaryEveryMs = 15_000) {
  const clock = manualClock();
  const lines: Line[] = [];
  const record = (level: Line['level']) => (fields: object, message = '') => void lines.push({ level, fields: fields as Record<string, unknown>, message });
  const log = createOutageLog({ backend: 'Redis', logger: { error: record('error'), warn: record('warn'), info: record('info') }, clock, summaryEveryMs });
  return { log, clock, lines };
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

describe('outage log', () => {
  it('logs nothing while the backend answers', () => {
    const { log, lines } = outage();
    for (let i = 0; i < 1000; i++) log.answered();
    assert.deepEqual(lines, []);
    assert.equal(log.down, false);
  });

  it('logs the first failed request at once, with its cause', () => {
    const { log, lines } = outage();
    const cause = refused();
    const error = log.requestFailed(cause);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'error');
    assert.equal(lines[0].fields.err, cause);
    assert.match(lines[0].message, /^Redis is unreachable/);
    assert.ok(error instanceof BackendUnavailableError);
    assert.equal(error.cause, cause);
    assert.equal(log.down, true);
  });

  it('logs thousands of failed requests within one interval as one line', () => {
    const { log, clock, lines } = outage();
    for (let i = 0; i < 5000; i++) {
      log.requestFailed(refused());
      clock.advanceMs(2); // 10 s in all: less than the interval
    }
    assert.equal(lines.length, 1);
  });

  it('then logs at most one line per interval, counting the requests that failed since the last', () => {
    const { log, clock, lines } = outage(15_000);
    log.requestFailed(refused());
    for (let second = 1; second <= 45; second++) {
      clock.advanceMs(1000);
      for (let i = 0; i < 100; i++) log.requestFailed(refused());
    }
    const summaries = lines.filter((line) => line.level === 'warn');
    assert.equal(lines.length, 1 + summaries.length);
    assert.equal(summaries.length, 3, 'at 15, 30 and 45 s');
    // each line counts the failures since the line before, its own included: the first line told
    // of the request at 0 s, then 14 × 100 more and the first one at 15 s; 1,500 each after that
    assert.deepEqual(summaries.map((line) => line.fields.failed), [1401, 1500, 1500]);
    assert.deepEqual(summaries.map((line) => line.fields.downSeconds), [15, 30, 45]);
    assert.equal(summaries[1].message, 'Redis still unreachable after 30 s; 1500 requests failed in the last 15 s');
  });

  it('logs one line when the backend answers again: how long it was away and how many requests failed', () => {
    const { log, clock, lines } = outage();
    for (let i = 0; i < 42; i++) log.requestFailed(refused());
    clock.advanceMs(7_400);
    log.answered();
    log.answered();
    assert.equal(lines.length, 2);
    assert.equal(lines[1].level, 'info');
    assert.equal(lines[1].message, 'Redis reachable again after 7 s; 42 requests failed');
    assert.deepEqual(lines[1].fields, { failed: 42, downSeconds: 7 });
    assert.equal(log.down, false);
  });

  it('starts an outage on a failed connection without counting a request, and tells only the first of many', () => {
    const { log, clock, lines } = outage();
    for (let i = 0; i < 20; i++) {
      log.connectionFailed(refused());
      clock.advanceMs(2_000);
    }
    log.requestFailed(refused());
    log.answered();
    assert.deepEqual(lines.map((line) => line.level), ['error', 'warn', 'info']);
    assert.match(lines[2].message, /after 40 s; 1 request failed$/);
  });

  it('tells a second outage as a new one', () => {
    const { log, lines } = outage();
    log.requestFailed(refused());
    log.answered();
    log.requestFailed(refused());
    log.requestFailed(refused());
    log.answered();
    assert.deepEqual(lines.map((line) => line.level), ['error', 'info', 'error', 'info']);
    assert.equal(lines[3].fields.failed, 2);
  });

  it('marks the errors it counted, also when a handler wraps them, and no other error', () => {
    const { log } = outage();
    const counted = log.requestFailed(refused());
    assert.equal(isCountedOutage(counted), true);
    assert.equal(isCountedOutage(new AppError('internal_error', 500, 'Something went wrong.', { cause: counted })), true);
    assert.equal(isCountedOutage(refused()), false);
    assert.equal(isCountedOutage(new AppError('internal_error', 500, 'Something went wrong.', { cause: refused() })), false);
    assert.equal(isCountedOutage('a string'), false);
    assert.equal(isCountedOutage(undefined), false);
  });
});
