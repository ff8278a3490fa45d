import { SESSION_RECHECK_FLAG } from '../config/session-recheck.ts';
import { GROUPS_SCOPE_FLAG, needsGroupsScope, type DeploymentPlan, type ProtectedPrefix } from './plan.ts';

// systemd units for running latchkey without containers. Each unit is printed after a
// "# file: PATH" line; a unit file accepts # comments, so each part can be saved as it is.
//
// Secrets come in through LoadCredential= (readable only by the service, in the folder that the
// %d specifier names) and are named by *_FILE / --*-secret-file, so they appear neither in
// `systemctl show` nor in the process list. Settings live in an EnvironmentFile the admin edits.

const split = (host: string) => ({ host: host.slice(0, host.lastIndexOf(':')), port: host.slice(host.lastIndexOf(':') + 1) });

/** Sandboxing shared by every latchkey unit; each line costs nothing to a program that only
 * listens on loopback, writes its StateDirectory and talks HTTP. */
function hardening(stateDirectory: string | null): string[] {
  return [
    '# A throwaway system user per service' + (stateDirectory ? '; files in StateDirectory survive restarts.' : '.'),
    'DynamicUser=yes',
    ...(stateDirectory ? [`StateDirectory=${stateDirectory}`, 'StateDirectoryMode=0700'] : []),
    'UMask=0077',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'CapabilityBoundingSet=',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    // a refused system call fails with EPERM (libuv then falls back) instead of killing the process
    'SystemCallErrorNumber=EPERM',
    // V8 compiles JavaScript to machine code at run time, which needs writable+executable memory
    '# No MemoryDenyWriteExecute=yes: Node\'s JIT compiler needs writable, executable memory.',
  ];
}

function unit(plan: DeploymentPlan, o: { file: string; description: string; command: string; environmentFile: string; environment: string[]; credentials: string[]; stateDirectory: string | null }): string[] {
  return [
    `# file: /etc/systemd/system/${o.file}`,
    '[Unit]',
    `Description=${o.description}`,
    `Documentation=file:${plan.installDir}/docs/reverse-proxies.md`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${plan.installDir}`,
    // the Node 24 that `npm ci` put beside latchkey (the "node" devDependency); bin/latchkey uses it too
    `ExecStart=${plan.installDir}/bin/latchkey ${o.command}`,
    o.environment.length
      ? '# Your own settings; they override the Environment= lines below. Optional ("-"), mode 600.'
      : '# Further OAUTH2_PROXY_* settings (the flags above win over them). Optional ("-"), mode 600.',
    `EnvironmentFile=-${o.environmentFile}`,
    ...o.environment.map((line) => `Environment=${line}`),
    ...o.credentials.map((c) => `LoadCredential=${c}`),
    'Restart=on-failure',
    'RestartSec=2s',
    '',
    ...hardening(o.stateDirectory),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
}

/**
 * With --proxy-socket: systemd creates the proxy's unix socket and hands it over as fd:3 (socket
 * activation). systemd, not the proxy's throwaway DynamicUser, owns it, so it can belong to the
 * web server's group; it stays open while the proxy restarts, so nginx's checks wait in its queue
 * instead of failing; and the first check starts the proxy if it is not running.
 */
function proxySocketUnit(plan: DeploymentPlan, path: string): string[] {
  return [
    '# file: /etc/systemd/system/latchkey-proxy.socket',
    '[Unit]',
    'Description=latchkey proxy: the unix socket nginx asks before every protected file',
    `Documentation=file:${plan.installDir}/docs/reverse-proxies.md`,
    '',
    '[Socket]',
    `ListenStream=${path}`,
    "# Only root and the web server's group may connect (connecting needs write permission).",
    "# nginx's workers run as www-data on Debian and Ubuntu; elsewhere name nginx's group (nginx, http),",
    '# or for Caddy (user caddy) add it to this group: usermod -aG www-data caddy.',
    'SocketUser=root',
    'SocketGroup=www-data',
    'SocketMode=0660',
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ];
}

const protectArg = (rule: ProtectedPrefix) => (rule.allowedGroups.length ? `${rule.prefix}=${rule.allowedGroups.join(',')}` : rule.prefix);

/** Units for `latchkey id` and `latchkey proxy` (or one `latchkey serve` with --single). */
export function generateSystemdUnits(plan: DeploymentPlan): string {
  const intro = [
    `# latchkey: systemd units generated by \`latchkey generate systemd\` for ${plan.siteHost}.`,
    `# Install latchkey in ${plan.installDir} (git clone, then npm ci), save each part below as the`,
    '# file it names, put secrets in /etc/latchkey (root-owned, mode 600: install -d -m 700 /etc/latchkey,',
    '# then make each file under umask 077, e.g. (umask 077; openssl rand -base64 32 > /etc/latchkey/encryption_key)),',
    '# then:',
    `#   systemctl daemon-reload && systemctl enable --now ${plan.single ? 'latchkey-serve' : plan.proxySocket ? 'latchkey-id latchkey-proxy.socket latchkey-proxy' : 'latchkey-id latchkey-proxy'}`,
    '',
  ];
  const id = split(plan.idUpstream);
  if (plan.single) {
    const serve = split(plan.serveUpstream);
    const protect = plan.protectedPrefixes.map((r) => `--protect ${protectArg(r)}`).join(' ');
    return [
      ...intro,
      ...unit(plan, {
        file: 'latchkey-serve.service',
        description: 'latchkey serve: identity provider, proxy and static site in one process',
        command: `serve --site ${plan.siteRoot} ${protect}`,
        environmentFile: '/etc/latchkey/serve.env',
        environment: [`LATCHKEY_URL=https://${plan.siteHost}`, `APP_URL=https://${plan.idHost}`, `HOST=${serve.host}`, `PORT=${serve.port}`, 'TRUST_PROXY=127.0.0.1', 'DB_CONNECTION_STRING=/var/lib/latchkey/latchkey.db', 'ENCRYPTION_KEY_FILE=%d/encryption_key'],
        credentials: ['encryption_key:/etc/latchkey/encryption_key'],
        stateDirectory: 'latchkey',
      }),
    ].join('\n');
  }
  const proxy = split(plan.proxyUpstream);
  const proxyArgs = [
    // fd:3 is the first (here the only) socket systemd passes: latchkey-proxy.socket's
    plan.proxySocket ? '--http-address=fd:3' : `--http-address=${proxy.host}:${proxy.port}`,
    '--provider=oidc',
    `--client-id=${plan.clientId}`,
    '--client-secret-file=%d/client_secret',
    '--cookie-secret-file=%d/cookie_secret',
    `--oidc-issuer-url=https://${plan.idHost}`,
    // back-channel calls straight to the local id process, not out and back in through nginx
    `--oidc-internal-url=http://${id.host}:${id.port}`,
    `--redirect-url=https://${plan.siteHost}/oauth2/callback`,
    `--cookie-name=${plan.cookieName}`,
    // see session-recheck.ts; needs the edge to pass the check's Set-Cookie on (nginx and Caddy files generated here do)
    SESSION_RECHECK_FLAG,
    '--email-domain=*',
    '--upstream=static://202',
    '--skip-provider-button=true',
    '--set-xauthrequest=true',
    '--reverse-proxy=true',
    // systemd's ExecStart takes a double-quoted argument as one, spaces included.
    ...(needsGroupsScope(plan) ? [`"${GROUPS_SCOPE_FLAG}"`] : []),
  ];
  return [
    ...intro,
    ...unit(plan, {
      file: 'latchkey-id.service',
      description: 'latchkey id: passkey identity provider (OIDC)',
      command: 'id',
      environmentFile: '/etc/latchkey/id.env',
      environment: [`APP_URL=https://${plan.idHost}`, `HOST=${id.host}`, `PORT=${id.port}`, 'TRUST_PROXY=127.0.0.1', 'DB_CONNECTION_STRING=/var/lib/latchkey-id/latchkey.db', 'ENCRYPTION_KEY_FILE=%d/encryption_key'],
      credentials: ['encryption_key:/etc/latchkey/encryption_key'],
      stateDirectory: 'latchkey-id',
    }),
    ...unit(plan, {
      file: 'latchkey-proxy.service',
      description: 'latchkey proxy: forward-auth OIDC client for nginx auth_request',
      command: `proxy ${proxyArgs.join(' \\\n    ')}`,
      environmentFile: '/etc/latchkey/proxy.env',
      environment: [],
      credentials: ['client_secret:/etc/latchkey/client_secret', 'cookie_secret:/etc/latchkey/cookie_secret'],
      stateDirectory: null, // sessions live in the browser's cookie
    }).flatMap((line) => {
      if (line !== 'After=network-online.target') return [line];
      if (!plan.proxySocket) return ['After=network-online.target latchkey-id.service'];
      return ['After=network-online.target latchkey-id.service latchkey-proxy.socket', 'Requires=latchkey-proxy.socket'];
    }),
    ...(plan.proxySocket ? proxySocketUnit(plan, plan.proxySocket) : []),
  ].join('\n');
}
