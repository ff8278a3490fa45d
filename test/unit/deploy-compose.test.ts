import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_SUBNET, generateComposeFile } from '../../src/deploy/compose-file.ts';
import { makePlan } from '../../src/deploy/plan.ts';

type Service = { image: string; command: string[]; environment?: Record<string, string>; ports: string[]; secrets?: string[]; healthcheck: { test: string[] }; volumes?: string[] };
type Compose = { services: Record<string, Service>; secrets: Record<string, { file: string }>; networks: unknown };

/** Parsed by a real YAML parser (Debian's python3-yaml), so indentation slips cannot hide. */
function parseYaml(text: string): Compose {
  const result = spawnSync('/usr/bin/python3', ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8' });
  if (result.error || result.status !== 0) throw new Error(`python3 with yaml is needed (apt-get install python3-yaml): ${result.error?.message ?? result.stderr}`);
  return JSON.parse(result.stdout);
}

const compose = parseYaml(generateComposeFile(makePlan()));
const { id, proxy } = compose.services;

describe('generateComposeFile', () => {
  it('runs the guide\'s two services from the latchkey image', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['id', 'proxy']);
    assert.equal(id.image, 'latchkey:latest');
    assert.deepEqual(id.command, ['id']);
    assert.equal(proxy.command[0], 'proxy');
  });

  it('gives latchkey id its variable names: APP_URL, TRUST_PROXY, ENCRYPTION_KEY_FILE from a secret', () => {
    assert.equal(id.environment!.APP_URL, 'https://id.example.com');
    assert.equal(id.environment!.TRUST_PROXY, COMPOSE_SUBNET);
    assert.equal(id.environment!.ENCRYPTION_KEY_FILE, '/run/secrets/encryption_key');
    assert.deepEqual(id.secrets, ['encryption_key']);
    assert.equal(compose.secrets.encryption_key.file, './encryption_key');
    assert.ok(!('PUBLIC_APP_URL' in id.environment!) && !('DB_PROVIDER' in id.environment!));
  });

  it('makes the proxy listen on every interface inside its container, so nginx can reach it', () => {
    assert.ok(proxy.command.includes('--http-address=0.0.0.0:4180'));
  });

  it('binds both host ports to 127.0.0.1 only', () => {
    assert.deepEqual(id.ports, ['127.0.0.1:1411:1411']);
    assert.deepEqual(proxy.ports, ['127.0.0.1:4180:4180']);
  });

  it('reads the proxy\'s secrets from files, never from the compose file', () => {
    assert.ok(proxy.command.includes('--client-secret-file=/run/secrets/client_secret'));
    assert.ok(proxy.command.includes('--cookie-secret-file=/run/secrets/cookie_secret'));
    assert.ok(!proxy.command.some((arg) => /^--(client|cookie)-secret=/.test(arg)));
  });

  it('has the proxy answer /oauth2/auth with the X-Auth-Request headers nginx reads', () => {
    assert.ok(proxy.command.includes('--set-xauthrequest=true'));
    assert.ok(proxy.command.includes('--redirect-url=https://agents.example.com/oauth2/callback'));
  });

  it('has the proxy ask for the groups scope when a prefix admits only some groups', () => {
    const withGroups = parseYaml(generateComposeFile(makePlan({ protectedPrefixes: [{ prefix: '/private/family/', allowedGroups: ['family'] }] })));
    assert.ok(withGroups.services.proxy.command.includes('--scope=openid email profile groups'));
    assert.ok(!proxy.command.some((arg) => arg.startsWith('--scope')), 'no groups rule: oauth2-proxy\'s default scope');
  });

  it('has the proxy check each session with the provider every 5 minutes, as latchkey serve does', () => {
    assert.ok(proxy.command.includes('--cookie-refresh=5m'));
  });

  it('checks health with latchkey healthcheck, the proxy at its /ping', () => {
    assert.deepEqual(id.healthcheck.test, ['CMD', 'node', 'src/main.ts', 'healthcheck']);
    assert.deepEqual(proxy.healthcheck.test, ['CMD', 'node', 'src/main.ts', 'healthcheck', '--url', 'http://127.0.0.1:4180/ping']);
  });

  it("tells to hand every secret file to the image's user, before any container reads it: Compose mounts files with their own owner and mode", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
    assert.match(dockerfile, /^USER node$/m, "the image runs as the official Node image's node (uid 1000)");
    for (const plan of [makePlan(), makePlan({ single: true })]) {
      const text = generateComposeFile(plan);
      const secretNames = Object.keys(parseYaml(text).secrets);
      const lines = text.split('\n');
      const handedOver = (name: string) => lines.findIndex((line) => /^#\s+sudo chown 1000:1000 /.test(line) && line.split(' ').includes(name));
      for (const name of secretNames) {
        const made = lines.findIndex((line) => line.includes(`> ${name}`) || line.includes(`into ${name}`));
        assert.ok(made >= 0 && handedOver(name) > made, `${name} is made, then handed over`);
      }
      assert.ok(lines.some((line) => line === '#      umask 077'), 'made private from the start');
      const firstRun = lines.findIndex((line) => line.includes('docker compose run'));
      if (firstRun >= 0) assert.ok(handedOver('encryption_key') < firstRun, 'encryption_key is readable by the id before it runs');
    }
  });

  it('runs one latchkey serve service with --single, the site mounted read-only', () => {
    const single = parseYaml(generateComposeFile(makePlan({ single: true, protectedPrefixes: [{ prefix: '/private/', allowedGroups: ['friends'] }] })));
    assert.deepEqual(Object.keys(single.services), ['serve']);
    const serve = single.services.serve;
    assert.deepEqual(serve.command, ['serve', '--site', '/site', '--protect', '/private/=friends']);
    assert.ok(serve.volumes!.includes('/var/www/agents:/site:ro'));
    assert.deepEqual(serve.ports, ['127.0.0.1:8080:8080']);
  });
});
