import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PRODUCTION_ENV } from '../../bench/lib/bundle.ts';

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
// The image that runs is the last stage; the one before it builds the bundle.
const finalStart = instructions.findLastIndex((i) => i.op === 'FROM');
const build = instructions.slice(0, finalStart);
const final = instructions.slice(finalStart);
const inFinal = (op: string) => final.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds on node:24-slim, in a build stage and the stage that runs', () => {
    assert.deepEqual(all('FROM'), ['node:24-slim AS build', 'node:24-slim']);
  });

  it('builds the production bundle (npm run build) in its build stage, from the lock file', () => {
    assert.ok(build.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)));
    assert.ok(build.some((i) => i.op === 'RUN' && i.args === 'node scripts/build.ts'));
    assert.ok(build.some((i) => i.op === 'COPY' && /^scripts\s/.test(i.args)));
  });

  it('installs production dependencies only where it runs, from the lock file', () => {
    assert.ok(inFinal('RUN').some((run) => /\bnpm ci\b[^&]*--omit=dev/.test(run)));
    assert.ok(inFinal('COPY').some((copy) => copy.includes('package-lock.json')));
  });

  it('runs the bundle through bin/latchkey, with its Node flags and malloc setting', () => {
    assert.ok(inFinal('COPY').includes('--from=build /app/dist ./dist'));
    assert.ok(inFinal('COPY').includes('bin ./bin'));
    assert.equal(last('ENTRYPOINT'), '["bin/latchkey"]');
    // bin/latchkey picks dist/ only while it is newer than src/: the bundle is touched after both are copied.
    const at = (test: (i: { op: string; args: string }) => boolean) => final.findIndex(test);
    const touched = at((i) => i.op === 'RUN' && i.args === 'touch dist/main.js');
    assert.ok(touched > at((i) => i.op === 'COPY' && /^src\s/.test(i.args)) && touched > at((i) => i.op === 'COPY' && i.args.includes('/app/dist')));
    for (const [name, value] of Object.entries(PRODUCTION_ENV)) assert.ok(inFinal('ENV').includes(`${name}=${value}`), name);
    // The bundle reads package.json, src/web/assets and a browser script in node_modules where they lie.
    assert.ok(inFinal('COPY').some((copy) => /^src\s/.test(copy)));
  });

  it('runs as an unprivileged user', () => {
    const user = last('USER');
    assert.ok(user && user !== 'root' && user !== '0', `USER is ${user}`);
    assert.ok(final.findIndex((i) => i.op === 'USER') > final.findIndex((i) => i.op === 'RUN' && i.args.includes('npm ci')));
  });

  it('keeps its data in a /data volume, where the database goes by default', () => {
    assert.deepEqual(all('VOLUME'), ['["/data"]']);
    assert.ok(all('ENV').includes('DB_CONNECTION_STRING=/data/latchkey.db'));
    assert.ok(all('RUN').some((run) => /chown node:node \/data/.test(run)), 'the unprivileged user must own /data');
  });

  it('checks its health with latchkey healthcheck', () => {
    assert.match(last('HEALTHCHECK') ?? '', /CMD \["node", "dist\/main\.js", "healthcheck"\]$/);
  });

  it('exposes the id, proxy and serve ports', () => {
    assert.deepEqual(all('EXPOSE'), ['1411 4180 8080']);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'data', '.git', 'encryption_key']) assert.ok(ignored.includes(entry), entry);
  });
});
