// --authenticated-emails-file is read again when it changes, as oauth2-proxy does (it watches the
// file): adding a friend lets them in, removing one refuses their next request (401, and the
// session deleted, as oauth2-proxy answers a session its rules refuse), without a restart;
// a line that is not an address is left out, and a file that cannot be read keeps the list in use (src/config/authenticated-emails-file.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadProxyConfig } from '../../src/config/proxy-config.ts';
import { createCookieCodec } from '../../src/proxy/cookie-codec.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-emails-file-'));
const emailsFile = join(dir, 'emails.csv');
writeFileSync(emailsFile, '# friends\nann@example.com,Ann\n');
const secret = randomBytes(32);
const config = loadProxyConfig({
  argv: ['--provider=oidc', '--client-id=c', '--client-secret=s', '--oidc-issuer-url=http://127.0.0.1:9', '--redirect-url=http://localhost/oauth2/callback',
    `--cookie-secret=${secret.toString('base64url')}`, `--authenticated-emails-file=${emailsFile}`, '--upstream=static://202', '--http-address=127.0.0.1:0',
    '--cookie-secure=false', '--log-level=info'],
  env: {},
});

function sessionOf(email: string): string {
  const now = Math.floor(Date.now() / 1000);
  const [line] = createCookieCodec(config.cookie.name, config.cookie.secret).write({
    sub: email, email, emailVerified: true, preferredUsername: email.split('@')[0], groups: [], idToken: 'h.p.s', accessToken: 'at', refreshToken: '',
    sid: 's1', createdAt: now - 10, expiresAt: now + 3600, refreshAt: 0,
  }, { domain: null, path: '/', secure: false, httpOnly: true, sameSite: 'lax' }, 3600, Date.now(), new Map());
  return line.split(';')[0];
}

describe('--authenticated-emails-file, changed while the proxy runs', () => {
  let server: ProxyServer;
  let url: string;
  const logLines: Record<string, unknown>[] = [];
  before(async () => {
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    server = await createProxyServer(config, { loggerInstance: logger as never, emailsFileCheckMs: 25 });
    url = (await server.listen()).url;
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const status = async (email: string) => (await fetch(`${url}/oauth2/auth`, { headers: { cookie: sessionOf(email) } })).status;
  /** The status once the proxy has looked at the file again (it looks every 25 ms here). */
  async function statusBecomes(email: string, wanted: number): Promise<number> {
    let got = await status(email);
    for (let i = 0; i < 500 && got !== wanted; i++) {
      await new Promise((r) => setTimeout(r, 10));
      got = await status(email);
    }
    return got;
  }
  const events = (name: string) => logLines.filter((line) => line.event === name);

  it('lets in an address added to the file, and no longer one taken out of it', async () => {
    assert.equal(await status('ann@example.com'), 202);
    assert.equal(await status('bob@example.org'), 401);
    writeFileSync(emailsFile, '# friends\nann@example.com,Ann\n"Bob@Example.org",Bob\n');
    assert.equal(await statusBecomes('bob@example.org', 202), 202);
    writeFileSync(emailsFile, '# friends\n"bob@example.org",Bob\n');
    assert.equal(await statusBecomes('ann@example.com', 401), 401);
    assert.equal(await status('bob@example.org'), 202);
    assert.ok(events('emails_file_reloaded').length >= 2);
  });

  it('leaves out a line that is not an address and applies the rest at once, including a removal in the same edit, and says which line', async () => {
    writeFileSync(emailsFile, 'carol@example.net\ncarol@example.net dave@example.net\n');
    assert.equal(await statusBecomes('bob@example.org', 401), 401);
    assert.equal(await status('carol@example.net'), 202);
    assert.equal(await status('dave@example.net'), 401);
    const refused = events('emails_file_lines_refused');
    assert.equal(refused.length, 1);
    assert.match(String(refused[0].msg), /line 2 is not an email address: "carol@example\.net dave@example\.net".*1 address\(es\) may sign in/);
  });

  it('keeps the list in use when the file goes away, and says so', async () => {
    writeFileSync(emailsFile, 'bob@example.org\n');
    assert.equal(await statusBecomes('bob@example.org', 202), 202);
    rmSync(emailsFile);
    for (let i = 0; i < 500 && !events('emails_file_refused').length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(String(events('emails_file_refused')[0].msg), /cannot read .* \(ENOENT\).*the 1 address\(es\) read before still apply/);
    assert.equal(await status('bob@example.org'), 202);
    writeFileSync(emailsFile, 'carol@example.net\n');
    assert.equal(await statusBecomes('bob@example.org', 401), 401);
    assert.equal(await status('carol@example.net'), 202);
  });
});
