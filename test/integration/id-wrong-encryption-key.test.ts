// latchkey id started with another ENCRYPTION_KEY than its signing keys are sealed with: one line
// that says what is wrong, exit 1. It printed "failed AppError: …", a stack trace and the error's
// fields, the sentence that mattered lost in the middle.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.ts';
import { runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

describe('latchkey id with the wrong ENCRYPTION_KEY', () => {
  const { env } = scratchCommandEnv('latchkey-id-wrong-key-');

  it('exits 1 with one line naming ENCRYPTION_KEY, no stack trace', async () => {
    const made = await runLatchkey(['rotate-keys'], env);
    assert.equal(made.code, 0, made.stderr);
    const port = await freePort();
    const run = await runLatchkey(['id'], { ...env, HOST: '127.0.0.1', PORT: String(port), ENCRYPTION_KEY: 'another-encryption-key-0123456789' });
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.stderr, 'latchkey id: A signing key could not be decrypted: is ENCRYPTION_KEY the one it was created with?\n');
  });
});
