// doctor --resolve before DNS points at the server: an entry for the https port alone (what every
// other check needs) also tells the plain-HTTP check where the host is, instead of it reporting
// "does not resolve" for a host the operator did resolve. An entry for the plain-HTTP port wins,
// as in curl, where each entry is one HOST:PORT. A redirect must also keep the site's port.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';
import { freePort } from '../helpers/free-port.ts';

// .invalid never resolves (RFC 6761), so only --resolve can reach it
const HOST = 'agents.doctor.invalid';

describe('doctor --resolve and the plain-HTTP redirect check', () => {
  let server: Server;
  let dropPort = false;
  let httpPort: number;
  let httpsPort: number;
  before(async () => {
    httpPort = await freePort();
    httpsPort = await freePort(); // nothing listens there: only the redirect is checked here
    server = createServer((req, res) => res.writeHead(301, { location: `https://${HOST}${dropPort ? '' : `:${httpsPort}`}${req.url}` }).end());
    await new Promise<void>((resolve) => server.listen(httpPort, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const redirectCheck = async (resolve: string[]) =>
    (await runDoctor(['--json', '--site-url', `https://${HOST}:${httpsPort}`, '--http-port', String(httpPort), '--timeout', '2', ...resolve.flatMap((r) => ['--resolve', r])])).byId('https-redirect');

  it('asks plain HTTP at the address of the https entry when only that one is given, and says so', async () => {
    const check = await redirectCheck([`${HOST}:${httpsPort}:127.0.0.1`]);
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, new RegExp(`→ https://${HOST}:${httpsPort}/ \\(asked at 127\\.0\\.0\\.1, the address of --resolve ${HOST}:${httpsPort}:127\\.0\\.0\\.1; add --resolve ${HOST}:${httpPort}:ADDRESS if plain HTTP is elsewhere\\)`));
  });

  it("uses the plain-HTTP port's own entry when there is one", async () => {
    const check = await redirectCheck([`${HOST}:${httpsPort}:192.0.2.1`, `${HOST}:${httpPort}:127.0.0.1`]);
    assert.equal(check.status, 'ok', check.detail);
    assert.doesNotMatch(check.detail, /asked at/);
  });

  it('names the missing entries when --resolve was given for other hosts only', async () => {
    const check = await redirectCheck([`id.doctor.invalid:${httpsPort}:127.0.0.1`]);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, new RegExp(`does not resolve.*\\(--resolve has no entry for ${HOST}:${httpPort} or ${HOST}:${httpsPort}\\)`));
  });

  it('fails a redirect that drops the port of a site on another port than 443, with the server block latchkey generate nginx writes', async () => {
    dropPort = true;
    try {
      const check = await redirectCheck([`${HOST}:${httpsPort}:127.0.0.1`]);
      assert.equal(check.status, 'fail');
      assert.match(check.detail, new RegExp(`→ https://${HOST}/, not https://${HOST}:${httpsPort}: visitors are sent to another port than the site's`));
      assert.equal(check.fix, `nginx: server { listen ${httpPort}; server_name ${HOST}; return 301 https://$host:${httpsPort}$request_uri; }`);
    } finally {
      dropPort = false;
    }
  });
});
