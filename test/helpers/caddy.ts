// Real Caddy (Debian's 2.6) for edge tests: `caddy run` on a Caddyfile in a folder of the test's,
// with its HOME and XDG folders there too, so it neither reads nor writes anything else.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './deploy-tools.ts';
import { portAccepts, portTakenOr } from './free-port.ts';

export interface RunningCaddy {
  stop(): Promise<void>;
  /** What Caddy has logged so far (its own log, stderr: errors included). */
  output(): string;
}


/**
 * Writes `caddyfile` into dir and runs it until stop(); resolves once Caddy has started every
 * server and `port` accepts connections. A port taken by another process fails it with
 * PortTakenError (see onFreshPorts).
 */
export async function startCaddy(dir: string, caddyfile: string, port: number): Promise<RunningCaddy> {
  const config = join(dir, 'Caddyfile');
  writeFileSync(config, caddyfile);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const child = spawn(requireTool('caddy'), ['run', '--config', config, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const outputRead = new Promise((resolve) => child.once('close', resolve));
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  // An answer on the port is no proof that it is this Caddy: another test's server may hold it
  // while Caddy fails to bind and exits. Caddy logs this line only once all its servers listen.
  const started = () => output.includes('"msg":"serving initial configuration"');
  const deadline = Date.now() + 10_000;
  try {
    while (!started() || !(await portAccepts(port))) {
      if (child.exitCode !== null) throw new Error(`caddy exited with ${child.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`caddy did not start on ${port} within 10 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    await outputRead; // 'exit' can come before the last of its output
    throw portTakenOr(error, output);
  }
  return { stop, output: () => output };
}
