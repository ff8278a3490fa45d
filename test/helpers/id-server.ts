import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdApp, type IdApp, type IdAppOptions } from '../../src/app/id-app.ts';
import { loadIdConfig } from '../../src/config/id-config.ts';
import { freePort } from './free-port.ts';

export interface IdServer extends IdApp {
  origin: string;
  port: number;
  dataDir: string;
}

/**
 * A real `latchkey id` on http://localhost:PORT (or env.APP_URL) with its own SQLite file in a temp
 * folder. `options` as createIdApp's (a manual clock, a log destination); its log is off unless given.
 */
export async function startIdServer(env: Record<string, string> = {}, options: IdAppOptions = {}): Promise<IdServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-id-'));
  // APP_URL may name the id's public address (https://id.example behind nginx in the e2e tests).
  const origin = env.APP_URL ?? `http://localhost:${port}`;
  const config = loadIdConfig({ env: {
    APP_URL: origin, PORT: String(port), HOST: '127.0.0.1', DB_CONNECTION_STRING: join(dataDir, 'latchkey.db'),
    ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', LOG_LEVEL: 'warn', ...env,
  } });
  const id = await createIdApp(config, { logger: options.logDestination !== undefined, ...options });
  await id.listen();
  return {
    ...id, origin, port, dataDir,
    async close() {
      await id.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
