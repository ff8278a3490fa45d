// Real nginx, Caddy and openssl for the deployment tests. A missing tool fails the test loudly:
// a skipped check would look exactly like a passing one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_LUA_MODULES, luaLoadModuleLines } from '../../src/deploy/nginx-auth-cache.ts';

export function requireTool(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${name} is not installed; install it (scripts/system-deps.sh) instead of skipping this test`);
  return path;
}

/**
 * The load_module lines of nginx's Lua module (and the NDK it needs), for a test nginx.conf; the
 * generated auth cache's Lua engine needs them. Missing modules fail the test, never skip it.
 */
export function requireNginxLuaModules(): string[] {
  const missing = DEBIAN_LUA_MODULES.filter((path) => !existsSync(path));
  if (missing.length) throw new Error(`nginx's Lua module is not installed (${missing.join(', ')}); install libnginx-mod-http-lua (scripts/system-deps.sh) instead of skipping this test`);
  return luaLoadModuleLines();
}

/** A self-signed certificate for both test host names, written into dir. */
export function makeCertificate(dir: string, hosts: string[]): { certificate: string; key: string } {
  const certificate = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const result = spawnSync(requireTool('openssl'), [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', key, '-out', certificate, '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
  ], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { certificate, key };
}

/**
 * Wraps generated server blocks in a minimal nginx.conf whose every path lies inside dir.
 * `mainLines` go before events { } (load_module: Debian's modules-enabled is not included here).
 */
export function writeNginxConf(dir: string, generated: string, mainLines: string[] = []): string {
  const temp = join(dir, 'temp');
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(temp, sub), { recursive: true });
  writeFileSync(join(dir, 'site.conf'), generated);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      ...mainLines,
      'daemon off;',
      // one process that keeps the test's user, so it can read the test's files
      'master_process off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      // enough for bench/scale-out.ts's 50 wrk connections plus their upstream ones (64 was not)
      'events { worker_connections 512; }',
      'http {',
      '    include /etc/nginx/mime.types;',
      `    access_log ${join(dir, 'access.log')};`,
      `    client_body_temp_path ${join(temp, 'body')};`,
      `    proxy_temp_path ${join(temp, 'proxy')};`,
      `    fastcgi_temp_path ${join(temp, 'fastcgi')};`,
      `    uwsgi_temp_path ${join(temp, 'uwsgi')};`,
      `    scgi_temp_path ${join(temp, 'scgi')};`,
      `    include ${join(dir, 'site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return conf;
}

const nginxArgs = (dir: string) => ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];

/** `nginx -t`: exit status and what it printed. */
export function nginxTest(dir: string): { status: number | null; output: string } {
  const result = spawnSync(requireTool('nginx'), ['-t', ...nginxArgs(dir)], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

import { portAccepts, portTakenOr } from './free-port.ts';
export { freePort, onFreshPorts, PortTakenError } from './free-port.ts';

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output()}`);
    if (await portAccepts(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx did not listen on ${port}: ${output()}`);
}

/**
 * Something answering on the port is not proof that it is this nginx: a port from freePort() can
 * be taken by another test's server in between, and nginx then fails to bind and exits, while the
 * other server answers for a while (a test failing later with ECONNREFUSED). nginx writes its pid
 * file only once its sockets are bound, so that file naming this process is the proof.
 */
async function waitForOwnPidFile(dir: string, child: ChildProcess, output: () => string): Promise<void> {
  const pidFile = join(dir, 'nginx.pid');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode} (its port taken by another process?): ${output()}`);
    if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(child.pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nginx never wrote its pid file ${pidFile}: ${output()}`);
}

/**
 * Starts nginx on an already written nginx.conf; stop() ends exactly that process. A port taken
 * by another process fails it with PortTakenError (see onFreshPorts).
 */
export async function startNginx(dir: string, port: number): Promise<{ stop(): Promise<void> }> {
  const child = spawn(requireTool('nginx'), nginxArgs(dir), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const outputRead = new Promise((resolve) => child.once('close', resolve));
  try {
    await waitForPort(port, child, () => output);
    await waitForOwnPidFile(dir, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    await outputRead; // 'exit' can come before the last of its output
    throw portTakenOr(error, output);
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
