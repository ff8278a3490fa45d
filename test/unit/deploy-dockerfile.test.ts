import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// Docker cannot run on these machines, so the image's essentials are checked in the file itself.
const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => ({ op: line.split(/\s+/)[0].toUpperCase(), args: line.slice(line.indexOf(' ') + 1).trim() }));
const all = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
const last = (op: string) => all(op).at(-1);

describe('Dockerfile', () => {
  it('builds on node:24-slim', () => {
    assert.deepEqual(all('FROM'), ['node:24-slim']);
  });

  it('installs production dependencies only, from the lock file', () => {
    assert.ok(all('RUN').some((run) => /\bnpm ci\b[^&]*--omit=dev/.test(run)));
    assert.ok(all('COPY').some((copy) => copy.includes('package-lock.json')));
  });

  it('runs src/main.ts directly with the image\'s Node (type stripping, no build)', () => {
    assert.equal(last('ENTRYPOINT'), '["node", "src/main.ts"]');
    assert.ok(all('COPY').some((copy) => /^src\s/.test(copy)));
  });

  it('runs as an unprivileged user', () => {
    const user = last('USER');
    assert.ok(user && user !== 'root' && user !== '0', `USER is ${user}`);
    assert.ok(instructions.findIndex((i) => i.op === 'USER') > instructions.findIndex((i) => i.op === 'RUN' && i.args.includes('npm ci')));
  });

  it('keeps its data in a /data volume, where the database goes by default', () => {
    assert.deepEqual(all('VOLUME'), ['["/data"]']);
    assert.ok(all('ENV').includes('DB_CONNECTION_STRING=/data/latchkey.db'));
    assert.ok(all('RUN').some((run) => /chown node:node \/data/.test(run)), 'the unprivileged user must own /data');
  });

  it('checks its health with latchkey healthcheck', () => {
    assert.match(last('HEALTHCHECK') ?? '', /CMD \["node", "src\/main\.ts", "healthcheck"\]$/);
  });

  it('exposes the id, proxy and serve ports', () => {
    assert.deepEqual(all('EXPOSE'), ['1411 4180 8080']);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'data', '.git', 'encryption_key']) assert.ok(ignored.includes(entry), entry);
  });
});
