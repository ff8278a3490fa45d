// doctor: an access log that writes the request line or the Referer as they came keeps one-time
// sign-in links, setup tokens, codes and ID tokens. The guide's configuration has no access_log of
// its own, so Debian's nginx.conf logs it in "combined"; latchkey generate nginx logs through maps
// that replace them (deploy/nginx-parts.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { makePlan } from '../../src/deploy/plan.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';
import { GUIDE_STEP_4_NGINX } from '../helpers/guide-nginx.ts';

const checkOf = async (httpBlock: string) =>
  (await runDoctor(['--json', '--offline', '--nginx-t'], { stdin: `# configuration file /etc/nginx/nginx.conf:\nhttp {\n${httpBlock}\n}\n` })).byId('nginx-access-log-secrets');

describe('doctor: secrets in access logs', () => {
  it("warns about the guide's configuration, whose server blocks log in nginx's combined format, with the fix", async () => {
    const check = await checkOf(GUIDE_STEP_4_NGINX);
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /^server id\.ch3ngl0rd\.com \(\/etc\/nginx\/nginx\.conf:\d+\) and server agents\.ch3ngl0rd\.com \(\/etc\/nginx\/nginx\.conf:\d+\) have no access_log, so they use the http level's: on Debian \/var\/log\/nginx\/access\.log in nginx's "combined" format, which writes \$request, \$http_referer as they came: one-time/);
    assert.match(check.detail, /an unused link signs in whoever reads it there$/);
    assert.match(check.fix!, /log_format latchkey_combined that latchkey generate nginx writes/);
  });

  it('passes what latchkey generate nginx writes, with and without --default-access-log off', async () => {
    for (const plan of [makePlan(), makePlan({ defaultAccessLogPath: null })]) {
      const check = await checkOf(generateNginxConfig(plan).replace(/^[\s\S]*?http \{|\}\s*$/g, ''));
      assert.equal(check.status, 'ok', check.detail);
    }
  });

  it('names a hand-written format by what it writes, and "combined" when access_log names no format', async () => {
    // the format, and the same access_log in both of the guide's server blocks
    const conf = (format: string, log: string) => `log_format mine ${format};\n${GUIDE_STEP_4_NGINX.replaceAll('server {', `server {\n    access_log ${log};`)}`;
    const own = await checkOf(conf(`'$remote_addr "$request_uri" $status "$http_referer" $request_time'`, '/var/log/nginx/site.log mine buffer=32k'));
    assert.equal(own.status, 'warn');
    assert.match(own.detail, /access_log \/var\/log\/nginx\/site\.log \(\/etc\/nginx\/nginx\.conf:\d+\) uses the format "mine", which writes \$request_uri, \$http_referer as they came/);
    assert.doesNotMatch(own.detail, /\$request_time/);
    const plain = await checkOf(conf(`'$remote_addr $status'`, '/var/log/nginx/site.log'));
    assert.match(plain.detail, /uses the format "combined", which writes \$request, \$http_referer/);
    assert.equal((await checkOf(conf(`'$remote_addr $status $request_time'`, '/var/log/nginx/site.log mine'))).status, 'ok');
    assert.equal((await checkOf(conf(`'$remote_addr'`, 'off'))).status, 'ok');
    assert.match((await checkOf(conf(`'$remote_addr'`, '/var/log/x.log elsewhere'))).detail, /format "elsewhere", which this configuration does not define/);
  });
});
