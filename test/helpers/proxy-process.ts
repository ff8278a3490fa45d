import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * For a `latchkey proxy` child process: the URL it prints when listening, once its /ready answers
 * 200 (provider discovery loaded). Rejects with its output if it exits first; fails after ~5 s.
 */
export async function proxyReadyUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  let output = '';
  child.stderr.on('data', (chunk) => { output += chunk; });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /latchkey proxy listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`latchkey proxy exited ${code}: ${output}`)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await fetch(`${url}/ready`)).status === 200) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`latchkey proxy at ${url} never became ready: ${output}`);
}
