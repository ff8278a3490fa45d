import { parseCommandArgs } from './args.ts';

/**
 * For container HEALTHCHECKs: exit 0 when the local server answers its health endpoint.
 * Defaults to `latchkey id` at INTERNAL_APP_URL (where it can reach itself, as Pocket ID names it),
 * else on PORT (1411) of this machine; `--url` checks anything else (the proxy's /ping).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { url: { type: 'string' } }, false);
  if (values.help) {
    console.log('usage: latchkey healthcheck [--url URL]   (default: $INTERNAL_APP_URL/healthz, else http://127.0.0.1:$PORT/healthz)\n\nExits 0 when the server answers 2xx within 3 seconds, 1 otherwise.');
    return 0;
  }
  const base = process.env.INTERNAL_APP_URL?.replace(/\/+$/, '') || `http://127.0.0.1:${process.env.PORT || 1411}`;
  const url = values.url ?? `${base}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000), redirect: 'manual' });
    if (response.status >= 200 && response.status < 300) return 0;
    console.error(`unhealthy: ${url} answered ${response.status}`);
  } catch (error) {
    console.error(`unhealthy: ${url} did not answer (${(error as Error).message})`);
  }
  return 1;
}
