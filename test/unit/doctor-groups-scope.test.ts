// doctor's check that group rules come with the groups scope. nginx asking the proxy
// /oauth2/auth?allowed_groups=family (latchkey generate nginx --protect /private/family/=family),
// or the proxy's own --allowed-group under a --scope without groups, refuses every member of the
// group: latchkey id puts the groups claim in tokens only for the groups scope.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateNginxConfig } from '../../src/deploy/nginx-config.ts';
import { GROUPS_SCOPE_FLAG, makePlan } from '../../src/deploy/plan.ts';
import { COOKIE_SECRET, runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-groups-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const nginxFile = (name: string, allowedGroups: string[]) => {
  const file = join(dir, name);
  writeFileSync(file, generateNginxConfig(makePlan({ protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups }] })));
  return file;
};
const WITH_GROUPS = nginxFile('groups.conf', ['family']);
const WITHOUT_GROUPS = nginxFile('plain.conf', []);

const PROXY = ['--client-id=latchkey-site', '--client-secret=s3cret', `--cookie-secret=${COOKIE_SECRET}`, '--oidc-issuer-url=https://id.example.com',
  '--redirect-url=https://agents.example.com/oauth2/callback', '--email-domain=*', '--upstream=static://202'];

const verdict = async (argv: string[]) => (await runDoctor(['--json', '--offline', ...argv])).byId('groups-scope');

describe('doctor: group rules and the groups scope', () => {
  it("fails nginx's allowed_groups with a proxy that keeps the default scope, and gives the --scope to add", async () => {
    const check = await verdict(['--nginx-config', WITH_GROUPS, '--proxy-args', ...PROXY]);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /nginx asks allowed_groups=family \(.*groups\.conf:\d+\)/);
    assert.match(check.detail, /the proxy asks for the scopes "openid email profile" \(the default\), without groups/);
    assert.match(check.detail, /every member of the group is refused/);
    assert.ok(check.fix!.includes('--scope="openid email profile groups"'), check.fix);
  });

  it("finds the groups the Lua auth cache asks for, which has no auth location (it asks the proxy itself)", async () => {
    const file = join(dir, 'lua.conf');
    writeFileSync(file, generateNginxConfig(makePlan({ authCacheSeconds: 30, authCacheEngine: 'lua', protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family', 'x@y'] }] })));
    const check = await verdict(['--nginx-config', file, '--proxy-args', ...PROXY]);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /nginx asks allowed_groups=family,x@y \(.*lua\.conf:\d+\)/);
    assert.equal((await verdict(['--nginx-config', file, '--proxy-args', ...PROXY, GROUPS_SCOPE_FLAG])).status, 'ok');
  });

  it('passes with the scope latchkey generate systemd and compose give the proxy', async () => {
    const check = await verdict(['--nginx-config', WITH_GROUPS, '--proxy-args', ...PROXY, GROUPS_SCOPE_FLAG]);
    assert.equal(check.status, 'ok', check.detail);
  });

  it('fails the proxy\'s own --allowed-group under a --scope without groups, and keeps the scopes it has', async () => {
    const check = await verdict(['--proxy-args', ...PROXY, '--allowed-group=family', '--scope=openid email profile offline_access']);
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /the proxy has --allowed-group=family, but the proxy asks for the scopes "openid email profile offline_access" \(--scope, --proxy-args\)/);
    assert.ok(check.fix!.includes('--scope="openid email profile offline_access groups"'), check.fix);
  });

  it('passes --allowed-group without --scope: the proxy adds groups itself, as oauth2-proxy does', async () => {
    assert.equal((await verdict(['--proxy-args', ...PROXY, '--allowed-group=family'])).status, 'ok');
  });

  it('passes when nothing asks for groups, and says what it needs when the proxy is unknown', async () => {
    assert.equal((await verdict(['--nginx-config', WITHOUT_GROUPS, '--proxy-args', ...PROXY])).status, 'ok');
    const unknown = await verdict(['--nginx-config', WITH_GROUPS]);
    assert.equal(unknown.status, 'skip');
    assert.match(unknown.detail, /allowed_groups=family.*needs its options \(--proxy-args/);
  });

  it('reads the scope from the proxy\'s config file too', async () => {
    const config = join(dir, 'proxy.cfg');
    writeFileSync(config, 'scope = "openid email profile"\n');
    const check = await verdict(['--nginx-config', WITH_GROUPS, '--proxy-args', ...PROXY, `--config=${config}`]);
    assert.equal(check.status, 'fail');
    assert.match(check.fix!, /scope = "openid email profile groups"/);
  });
});
