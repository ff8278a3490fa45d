// serve's certificate files (src/core/tls-files.ts): what a pair must pass to be served, at start
// and when the files change, and the watcher that takes a renewal without a restart.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readTlsPair, type TlsFiles, watchTlsFiles } from '../../src/core/tls-files.ts';
import { type LocalCa, makeLocalCa } from '../helpers/local-ca.ts';

const HOSTS = ['agents.example', 'id.example'];

describe('readTlsPair', () => {
  let dir: string;
  let local: LocalCa;
  let certificate: X509Certificate;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-tls-files-'));
    local = makeLocalCa(join(dir, 'ca'), HOSTS);
    certificate = new X509Certificate(readFileSync(local.certFile));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const files = (): TlsFiles => ({ certPath: local.certFile, keyPath: local.keyFile });

  it('takes a certificate and its key for every host name it names, while it is valid', () => {
    const read = readTlsPair(files(), HOSTS, Date.now());
    assert.ok(read.ok, read.ok ? '' : read.problems.join(' | '));
    assert.equal(read.certificate.fingerprint256, certificate.fingerprint256);
  });

  it('refuses it outside its validity, naming the date', () => {
    const expired = readTlsPair(files(), HOSTS, certificate.validToDate.getTime() + 1);
    assert.deepEqual(expired.ok ? [] : expired.problems, [`--tls-cert: ${local.certFile} expired at ${certificate.validToDate.toISOString()}`]);
    const early = readTlsPair(files(), HOSTS, certificate.validFromDate.getTime() - 1);
    assert.deepEqual(early.ok ? [] : early.problems, [`--tls-cert: ${local.certFile} is not valid before ${certificate.validFromDate.toISOString()}`]);
  });

  it('refuses host names the certificate lacks, an IP address included', () => {
    const read = readTlsPair(files(), ['agents.example', 'www.agents.example', '127.0.0.1'], Date.now());
    assert.deepEqual(read.ok ? [] : read.problems.map((p) => p.replace(/ \(it names .*\)$/, '')),
      ['www.agents.example', '127.0.0.1'].map((host) => `--tls-cert: ${local.certFile} is not valid for ${host}, which browsers will be sent to`));
  });

  it('refuses a key that needs a passphrase, saying so', () => {
    const encrypted = join(dir, 'encrypted-key.pem');
    writeFileSync(encrypted, createPrivateKey(readFileSync(local.keyFile)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    const read = readTlsPair({ certPath: local.certFile, keyPath: encrypted }, HOSTS, Date.now());
    assert.deepEqual(read.ok ? [] : read.problems, [`--tls-key: ${encrypted} holds no unencrypted private key (expected PEM, "-----BEGIN PRIVATE KEY-----"; this one needs a passphrase)`]);
  });
});

describe('watchTlsFiles', () => {
  let dir: string;
  let first: LocalCa;
  let second: LocalCa;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-tls-watch-'));
    first = makeLocalCa(join(dir, 'first'), HOSTS);
    second = makeLocalCa(join(dir, 'second'), HOSTS);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function setUp(options: { apply?: (fingerprint: string) => void } = {}) {
    const live = { certPath: join(dir, `cert-${Math.random()}.pem`), keyPath: join(dir, `key-${Math.random()}.pem`) };
    copyFileSync(first.certFile, live.certPath);
    copyFileSync(first.keyFile, live.keyPath);
    const applied: string[] = [];
    const logged: { level: string; details: Record<string, unknown>; message: string }[] = [];
    const log = (level: string) => (details: object, message: string) => logged.push({ level, details: details as Record<string, unknown>, message });
    const watcher = watchTlsFiles({
      files: live, hostnames: HOSTS, current: new X509Certificate(readFileSync(first.certFile)), now: () => Date.now(), intervalMs: 3_600_000,
      apply: (pair) => {
        const fingerprint = new X509Certificate(pair.cert).fingerprint256;
        options.apply?.(fingerprint);
        applied.push(fingerprint);
      },
      log: { info: log('info'), warn: log('warn'), error: log('error') },
    });
    return { live, applied, logged, watcher };
  }
  const fingerprintOf = (ca: LocalCa) => new X509Certificate(readFileSync(ca.certFile)).fingerprint256;

  it('takes a renewed pair once both files changed, and says so', (t) => {
    const { live, applied, logged, watcher } = setUp();
    t.after(() => watcher.stop());
    assert.equal(watcher.check(), 'unchanged');
    copyFileSync(second.certFile, live.certPath);
    copyFileSync(second.keyFile, live.keyPath);
    assert.equal(watcher.check(), 'reloaded');
    assert.deepEqual(applied, [fingerprintOf(second)]);
    assert.deepEqual(logged.map((l) => [l.level, l.details.event]), [['info', 'tls_reloaded']]);
    assert.equal(watcher.check(), 'unchanged');
  });

  it('refuses a half-written renewal (the new certificate, the old key) once, keeps the pair in use, and takes it when the key follows', (t) => {
    const { live, applied, logged, watcher } = setUp();
    t.after(() => watcher.stop());
    copyFileSync(second.certFile, live.certPath);
    assert.equal(watcher.check(), 'refused');
    assert.equal(watcher.check(), 'unchanged', 'the same files are not read again');
    assert.deepEqual(applied, []);
    assert.equal(logged.length, 1);
    assert.equal(logged[0].level, 'warn');
    assert.match(logged[0].message, /is not the key of the certificate.*still serving the certificate valid until/);
    copyFileSync(second.keyFile, live.keyPath);
    assert.equal(watcher.check(), 'reloaded');
    assert.deepEqual(applied, [fingerprintOf(second)]);
  });

  it('refuses files that went away or are not PEM, and serves on', (t) => {
    const { live, applied, logged, watcher } = setUp();
    t.after(() => watcher.stop());
    rmSync(live.keyPath);
    assert.equal(watcher.check(), 'refused');
    writeFileSync(live.keyPath, 'not a key');
    assert.equal(watcher.check(), 'refused');
    assert.deepEqual(applied, []);
    assert.deepEqual(logged.map((l) => l.details.event), ['tls_reload_refused', 'tls_reload_refused']);
    assert.match(logged[0].message, /cannot read .* \(ENOENT\)/);
    assert.match(logged[1].message, /holds no private key/);
  });

  it('counts a pair that passes the checks but cannot be put in use as refused, logs it as an error, and keeps watching', (t) => {
    const { live, logged, watcher } = setUp({ apply: () => { throw new Error('setSecureContext said no'); } });
    t.after(() => watcher.stop());
    copyFileSync(second.certFile, live.certPath);
    copyFileSync(second.keyFile, live.keyPath);
    assert.equal(watcher.check(), 'refused');
    assert.deepEqual(logged.map((l) => [l.level, l.details.event]), [['error', 'tls_reload_failed']]);
    assert.match(String((logged[0].details.err as Error).message), /setSecureContext said no/);
    assert.equal(watcher.check(), 'unchanged');
  });
});
