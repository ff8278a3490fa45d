import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makePlan } from '../../src/deploy/plan.ts';
import { generateSystemdUnits } from '../../src/deploy/systemd-units.ts';

/** Unit file name → its [Service] lines (continuations joined). */
function services(text: string): Map<string, string[]> {
  const units = new Map<string, string[]>();
  for (const part of text.split(/^# file: \/etc\/systemd\/system\//m).slice(1)) {
    const name = part.slice(0, part.indexOf('\n'));
    const service = part.slice(part.indexOf('[Service]'), part.indexOf('[Install]')).replace(/\\\n\s*/g, '');
    units.set(name, service.split('\n').filter((l) => l && !l.startsWith('#')));
  }
  return units;
}

const units = services(generateSystemdUnits(makePlan()));

describe('generateSystemdUnits', () => {
  it('prints one unit for latchkey id and one for latchkey proxy', () => {
    assert.deepEqual([...units.keys()], ['latchkey-id.service', 'latchkey-proxy.service']);
  });

  it('sandboxes every unit', () => {
    for (const [name, lines] of units)
      for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet='])
        assert.ok(lines.includes(line), `${name} lacks ${line}`);
  });

  it('keeps the identity provider\'s database in its StateDirectory', () => {
    const id = units.get('latchkey-id.service')!;
    assert.ok(id.includes('StateDirectory=latchkey-id'));
    assert.ok(id.includes('Environment=DB_CONNECTION_STRING=/var/lib/latchkey-id/latchkey.db'));
  });

  it('reads settings from an EnvironmentFile and secrets from credentials, not from the unit', () => {
    const id = units.get('latchkey-id.service')!;
    assert.ok(id.includes('EnvironmentFile=-/etc/latchkey/id.env'));
    assert.ok(id.includes('LoadCredential=encryption_key:/etc/latchkey/encryption_key'));
    assert.ok(id.includes('Environment=ENCRYPTION_KEY_FILE=%d/encryption_key'));
    const proxy = units.get('latchkey-proxy.service')!.join('\n');
    assert.match(proxy, /--cookie-secret-file=%d\/cookie_secret/);
    assert.doesNotMatch(proxy, /--(client|cookie)-secret=/);
  });

  it('keeps both processes on loopback, behind the edge', () => {
    assert.ok(units.get('latchkey-id.service')!.includes('Environment=HOST=127.0.0.1'));
    assert.match(units.get('latchkey-proxy.service')!.join('\n'), /--http-address=127\.0\.0\.1:4180/);
  });

  it('does not forbid writable executable memory, which Node\'s JIT needs', () => {
    for (const lines of units.values()) assert.ok(!lines.some((l) => l.startsWith('MemoryDenyWriteExecute=yes')));
  });

  it('has the proxy ask for the groups scope when a prefix admits only some groups, as one quoted argument', () => {
    // nginx asks /oauth2/auth?allowed_groups=family; without the scope no session carries groups
    // and every member of the group was refused.
    const withGroups = services(generateSystemdUnits(makePlan({ protectedPrefixes: [{ prefix: '/private/', allowedGroups: [] }, { prefix: '/private/family/', allowedGroups: ['family'] }] })));
    const execStart = withGroups.get('latchkey-proxy.service')!.find((l) => l.startsWith('ExecStart='))!;
    assert.match(execStart, / "--scope=openid email profile groups"$/);
    assert.doesNotMatch(units.get('latchkey-proxy.service')!.join('\n'), /--scope/, 'no groups rule: oauth2-proxy\'s default scope');
  });

  it('has the proxy check each session with the provider every 5 minutes, as latchkey serve does', () => {
    // without it a removal the back-channel logout missed, and group changes, last until --cookie-expire (7 days)
    assert.match(units.get('latchkey-proxy.service')!.find((l) => l.startsWith('ExecStart='))!, / --cookie-refresh=5m /);
  });

  it('prints one latchkey serve unit with --single', () => {
    const single = services(generateSystemdUnits(makePlan({ single: true })));
    assert.deepEqual([...single.keys()], ['latchkey-serve.service']);
    assert.ok(single.get('latchkey-serve.service')!.includes('ExecStart=/opt/latchkey/bin/latchkey serve --site /var/www/agents --protect /private/'));
  });
});

/** Unit file name → its whole text. */
function unitFiles(text: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const part of text.split(/^# file: \/etc\/systemd\/system\//m).slice(1)) files.set(part.slice(0, part.indexOf('\n')), part.slice(part.indexOf('\n') + 1));
  return files;
}

describe('generateSystemdUnits with --proxy-socket', () => {
  const files = unitFiles(generateSystemdUnits(makePlan({ proxySocket: '/run/latchkey/proxy.sock' })));
  const socketUnit = files.get('latchkey-proxy.socket') ?? '';
  const proxyUnit = files.get('latchkey-proxy.service') ?? '';

  it('adds a socket unit that systemd creates for the web server\'s group only', () => {
    assert.deepEqual([...files.keys()], ['latchkey-id.service', 'latchkey-proxy.service', 'latchkey-proxy.socket']);
    const lines = socketUnit.split('\n');
    for (const line of ['[Socket]', 'ListenStream=/run/latchkey/proxy.sock', 'SocketUser=root', 'SocketGroup=www-data', 'SocketMode=0660', 'WantedBy=sockets.target'])
      assert.ok(lines.includes(line), `latchkey-proxy.socket lacks ${line}`);
  });

  it('starts the proxy on the socket systemd passes as fd:3, after and with that socket unit', () => {
    assert.match(proxyUnit, /--http-address=fd:3/);
    assert.doesNotMatch(proxyUnit, /--http-address=127\.0\.0\.1/);
    assert.match(proxyUnit, /^After=.*latchkey-proxy\.socket/m);
    assert.match(proxyUnit, /^Requires=latchkey-proxy\.socket$/m);
    assert.match(generateSystemdUnits(makePlan({ proxySocket: '/run/latchkey/proxy.sock' })), /enable --now latchkey-id latchkey-proxy\.socket latchkey-proxy/);
  });

  it('keeps the proxy sandboxed, as without the socket', () => {
    for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'CapabilityBoundingSet='])
      assert.ok(proxyUnit.split('\n').includes(line), line);
  });
});
