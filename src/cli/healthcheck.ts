import { readEnv } from '../config/env.ts';
import { parseCommandArgs, print, printHelp, usageError } from './args.ts';

const HELP = `usage: latchkey healthcheck [--url URL] [--json]

Asks the local server's health endpoint (default: $INTERNAL_APP_URL/healthz, else
http://127.0.0.1:$PORT/healthz; --url for anything else, such as the proxy's /ping).
Exits 0 when it answers 2xx within 3 seconds, 1 otherwise.

  --json   print {"ok", "status", "url", "error"} on stdout, healthy or not (status is null when
           nothing answered; error is null when healthy)`;

/** What one check saw: `status` null when nothing answered, `error` null when healthy. */
interface HealthResult { ok: boolean; status: number | null; url: string; error: string | null }

async function check(url: string): Promise<HealthResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000), redirect: 'manual' });
    await response.body?.cancel().catch(() => {});
    const ok = response.status >= 200 && response.status < 300;
    return { ok, status: response.status, url, error: ok ? null : `answered ${response.status}` };
  } catch (error) {
    return { ok: false, status: null, url, error: `did not answer (${(error as Error).message})` };
  }
}

/**
 * For container HEALTHCHECKs: exit 0 when the local server answers its health endpoint.
 * Defaults to `latchkey id` at INTERNAL_APP_URL (where it can reach itself, as Pocket ID names it),
 * else on PORT (1411) of this machine; `--url` checks anything else (the proxy's /ping).
 * --json, which every command takes, prints the result for monitoring scripts.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { url: { type: 'string' } }, false);
  if (values.help) return printHelp(HELP);
  // as latchkey id reads it, INTERNAL_APP_URL_FILE included
  const problems: string[] = [];
  const internalUrl = readEnv(process.env, 'INTERNAL_APP_URL', problems);
  if (problems.length) throw usageError(problems.join('; '));
  const base = internalUrl?.replace(/\/+$/, '') || `http://127.0.0.1:${process.env.PORT || 1411}`;
  const result = await check(values.url ?? `${base}/healthz`);
  // Text mode stays quiet when healthy (container logs), and says why on stderr when not.
  if (values.json) print(true, result, () => '');
  else if (!result.ok) console.error(`unhealthy: ${result.url} ${result.error}`);
  return result.ok ? 0 : 1;
}
