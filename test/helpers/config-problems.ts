// What a refused configuration says: ConfigError carries every problem at once (one message listing
// them all), and tests read that list. Fails the test when `load` accepts the configuration.
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/problems.ts';

export function configProblems(load: () => unknown, what = 'the configuration'): readonly string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail(`expected ${what} to be refused`);
}
