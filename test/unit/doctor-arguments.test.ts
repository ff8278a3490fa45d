import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';

// A wrong argument is a usage error (exit 2), never a check run with NaN.
describe('doctor: its own arguments', () => {
  for (const [flag, value, message] of [
    ['--http-port', 'abc', /--http-port: "abc" is not a port \(1-65535\)/],
    ['--http-port', '0', /--http-port: "0" is not a port/],
    ['--http-port', '70000', /--http-port: "70000" is not a port/],
    ['--timeout', 'xyz', /--timeout: "xyz" is not a number of seconds above 0/],
    ['--timeout', '0', /--timeout: "0" is not a number of seconds above 0/],
  ] as const) {
    it(`refuses ${flag} ${value}`, async () => {
      await assert.rejects(runDoctor(['--json', '--offline', flag, value]), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'invalid_arguments');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('accepts a port and a fractional timeout', async () => {
    const run = await runDoctor(['--json', '--offline', '--http-port', '8080', '--timeout', '2.5']);
    assert.ok(run.results.length > 0);
  });
});
