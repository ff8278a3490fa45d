// `latchkey serve --tls-cert/--tls-key`: the certificate and key files, checked when read and read
// again when they change. A pair that cannot work (not PEM, a key of another certificate, names
// the URLs do not have, expired) is a configuration problem at start, not an OpenSSL stack trace
// or a browser's warning page. A renewal (certbot replaces the files every 60 days or so) takes
// effect without a restart: the files are looked at every minute and on SIGHUP, and new
// connections get the new pair; a replacement that does not pass the same checks is refused,
// logged, and the pair in use stays.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type FileWatch, watchFiles } from './file-version.ts';

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

/** What node:https takes: the chain as PEM, and its key. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

export type TlsRead =
  | { ok: true; pair: TlsPair; certificate: X509Certificate }
  | { ok: false; problems: string[] };

/** How often the files are looked at (two stat calls); SIGHUP looks at once. */
export const TLS_CHECK_INTERVAL_MS = 60_000;

/** Reads and checks the pair for serving `hostnames` at `nowMs`; every problem found, each naming its flag and file. */
export function readTlsPair(files: TlsFiles, hostnames: readonly string[], nowMs: number): TlsRead {
  const problems: string[] = [];
  const read = (path: string, flag: string): Buffer | null => {
    try {
      return readFileSync(path);
    } catch (error) {
      problems.push(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
  };
  const cert = read(files.certPath, '--tls-cert');
  const key = read(files.keyPath, '--tls-key');
  let certificate: X509Certificate | null = null;
  if (cert) {
    try {
      // the first certificate of a chain (fullchain.pem) is the server's own
      certificate = new X509Certificate(cert);
    } catch {
      problems.push(`--tls-cert: ${files.certPath} holds no certificate (expected PEM, "-----BEGIN CERTIFICATE-----", the server's certificate first)`);
    }
  }
  let privateKey: ReturnType<typeof createPrivateKey> | null = null;
  if (key) {
    try {
      privateKey = createPrivateKey(key);
    } catch {
      // PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key's "Proc-Type: 4,ENCRYPTED" (OpenSSL's
      // own error only says it was "interrupted", as it could not ask for the passphrase)
      const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key.toString('latin1'));
      problems.push(`--tls-key: ${files.keyPath} holds no ${encrypted ? 'unencrypted ' : ''}private key (expected PEM, "-----BEGIN PRIVATE KEY-----"${encrypted ? '; this one needs a passphrase' : ''})`);
    }
  }
  if (certificate && privateKey && !certificate.checkPrivateKey(privateKey))
    problems.push(`--tls-key: ${files.keyPath} is not the key of the certificate in ${files.certPath}`);
  if (certificate) problems.push(...certificateProblems(certificate, files.certPath, hostnames, nowMs));
  return problems.length || !cert || !key || !certificate ? { ok: false, problems } : { ok: true, pair: { cert, key }, certificate };
}

function certificateProblems(certificate: X509Certificate, path: string, hostnames: readonly string[], nowMs: number): string[] {
  const problems: string[] = [];
  const names = certificate.subjectAltName ?? `no subjectAltName, subject ${certificate.subject.replace(/\n/g, ', ')}`;
  for (const hostname of new Set(hostnames)) {
    const bare = hostname.replace(/^\[|\]$/g, '');
    const covered = isIP(bare) ? certificate.checkIP(bare) !== undefined : certificate.checkHost(bare) !== undefined;
    if (!covered) problems.push(`--tls-cert: ${path} is not valid for ${hostname}, which browsers will be sent to (it names ${names})`);
  }
  if (certificate.validFromDate.getTime() > nowMs) problems.push(`--tls-cert: ${path} is not valid before ${certificate.validFromDate.toISOString()}`);
  if (certificate.validToDate.getTime() <= nowMs) problems.push(`--tls-cert: ${path} expired at ${certificate.validToDate.toISOString()}`);
  return problems;
}

export interface TlsWatchDeps {
  files: TlsFiles;
  hostnames: readonly string[];
  /** The certificate in use at start, for the log line that says what is still served. */
  current: X509Certificate;
  apply(pair: TlsPair): void;
  log: { info(details: object, message: string): void; warn(details: object, message: string): void; error(details: object, message: string): void };
  now(): number;
  intervalMs?: number;
}

/** Watches the pair by its files' identity, size and times, which a renewal changes (certbot's live/ links point to new files). */
export function watchTlsFiles(deps: TlsWatchDeps): FileWatch {
  let current = deps.current;
  return watchFiles([deps.files.certPath, deps.files.keyPath], deps.intervalMs ?? TLS_CHECK_INTERVAL_MS, () => {
    const read = readTlsPair(deps.files, deps.hostnames, deps.now());
    if (!read.ok) {
      deps.log.warn({ event: 'tls_reload_refused', problems: read.problems, servedUntil: current.validToDate.toISOString() },
        `the changed TLS files were not taken: ${read.problems.join('; ')}; still serving the certificate valid until ${current.validToDate.toISOString()}`);
      return 'refused';
    }
    deps.apply(read.pair);
    current = read.certificate;
    deps.log.info({ event: 'tls_reloaded', names: current.subjectAltName, validTo: current.validToDate.toISOString() },
      `TLS certificate reloaded from ${deps.files.certPath}: valid until ${current.validToDate.toISOString()}; new connections use it`);
    return 'reloaded';
  }, (error) => deps.log.error({ err: error, event: 'tls_reload_failed' }, `the changed TLS files could not be put in use; still serving the certificate valid until ${current.validToDate.toISOString()}`));
}
