// Production-shaped HTTPS on one machine: a throwaway certificate authority, one leaf certificate
// for the test host names, and a HOME whose NSS database trusts that authority, so Chromium checks
// certificates exactly as it does for real users (no ignoreHTTPSErrors: the virtual authenticator
// would then skip Chromium's "no WebAuthn on certificate errors" rule and hide real failures).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { requireTool } from './deploy-tools.ts';

export interface LocalCa {
  /** PEM of the authority; give it to Node clients as `ca`. */
  caPem: string;
  caFile: string;
  /** Leaf certificate (all host names in its SAN) and its key, for nginx/Caddy. */
  certFile: string;
  keyFile: string;
  /** A HOME for Chromium whose ~/.pki/nssdb trusts the authority. */
  browserHome: string;
}

function run(tool: string, args: string[]): void {
  const result = spawnSync(requireTool(tool), args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
}

/** Creates the authority, a leaf for `hosts` signed by it, and a trusting browser HOME, all in `dir`. */
export function makeLocalCa(dir: string, hosts: string[]): LocalCa {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'leaf.pem');
  const keyFile = join(dir, 'leaf-key.pem');
  const csr = join(dir, 'leaf.csr');
  const extensions = join(dir, 'leaf.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-days', '2', '-keyout', caKey, '-out', caFile, '-subj', '/CN=latchkey test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${hosts[0]}`]);
  // Chromium ignores the common name: the names must be in subjectAltName, and the leaf must be a server certificate.
  writeFileSync(extensions, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
    '',
  ].join('\n'));
  run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', certFile, '-extfile', extensions]);

  const browserHome = join(dir, 'home');
  const nssdb = join(browserHome, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  run('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
  run('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'latchkey-test-ca', '-i', caFile]);
  return { caPem: readFileSync(caFile, 'utf8'), caFile, certFile, keyFile, browserHome };
}

/**
 * Chromium arguments that send every listed host's port 443 to one local port: URLs keep no port,
 * as in production, while nginx or Caddy listens on a free high port.
 */
export function mapHostsArgs(hosts: string[], port: number): string[] {
  return [`--host-resolver-rules=${hosts.map((h) => `MAP ${h}:443 127.0.0.1:${port}`).join(', ')}`];
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to 127.0.0.1:port as `servername` is shown, verified against `cas`. */
export function servedFingerprint(port: number, servername: string, cas: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca: cas }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}
