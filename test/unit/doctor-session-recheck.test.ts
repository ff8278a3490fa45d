// doctor's check that the proxy checks sessions with the provider. Without --cookie-refresh
// (oauth2-proxy's default, and the guide's), a user removed while the back-channel logout could not
// reach the proxy, and every change of groups, last until the session's end: a week by default.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SESSION_RECHECK_FLAG } from '../../src/config/session-recheck.ts';
import { COOKIE_SECRET, runDoctor } from '../helpers/doctor-deployment.ts';

const PROXY = ['--client-id=latchkey-site', '--client-secret=s3cret', `--cookie-secret=${COOKIE_SECRET}`, '--oidc-issuer-url=https://id.example.com',
  '--redirect-url=https://agents.example.com/oauth2/callback', '--email-domain=*', '--upstream=static://202'];

const verdict = async (argv: string[]) => (await runDoctor(['--json', '--offline', ...argv])).byId('session-recheck');

describe('doctor: the proxy checks sessions with the provider', () => {
  it('warns about a proxy that never does, says how long a removal lasts, and gives the flag', async () => {
    const check = await verdict(['--proxy-args', ...PROXY]);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /never checks a session with the provider after sign-in \(--cookie-refresh is 0/);
    assert.match(check.detail, /only when the session ends \(--cookie-expire, 168h\)/);
    assert.ok(check.fix!.includes('--cookie-refresh=5m'), check.fix);
    assert.match(check.fix!, /Caddy's forward_auth drops the refreshed cookie/);
  });

  it('names the proxy\'s own --cookie-expire', async () => {
    assert.match((await verdict(['--proxy-args', ...PROXY, '--cookie-expire=12h'])).detail, /--cookie-expire, 12h/);
  });

  it('passes the refresh latchkey generate systemd and compose give the proxy, and says how often', async () => {
    const check = await verdict(['--proxy-args', ...PROXY, SESSION_RECHECK_FLAG]);
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /checked with the provider every 5 min/);
  });

  it('skips without proxy options, and when they do not load', async () => {
    assert.equal((await verdict([])).status, 'skip');
    const broken = await verdict(['--proxy-args', ...PROXY, '--cookie-refresh=200h']);
    assert.equal(broken.status, 'skip');
    assert.match(broken.detail, /do not load/);
  });
});
