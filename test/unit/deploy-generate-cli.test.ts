import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/cli/generate.ts';
import { ConfigError } from '../../src/config/problems.ts';

/** Runs the command and returns what it printed to stdout. */
async function output(argv: string[]): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const write = process.stdout.write;
  const log = console.log;
  process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
  console.log = (...args: unknown[]) => void chunks.push(args.join(' ') + '\n');
  try {
    return { code: await run(argv), text: chunks.join('') };
  } finally {
    process.stdout.write = write;
    console.log = log;
  }
}

describe('latchkey generate', () => {
  it('lists every target and flag with --help', async () => {
    const { code, text } = await output(['--help']);
    assert.equal(code, 0);
    for (const word of ['nginx', 'caddy', 'compose', 'systemd', '--protect', '--auth-cache', '--public', '--single', '--tls-cert']) assert.ok(text.includes(word), word);
  });

  it('prints the nginx configuration for the given flags', async () => {
    const { code, text } = await output(['nginx', '--site-host', 'blog.example.org', '--protect', '/members/=club']);
    assert.equal(code, 0);
    assert.match(text, /server_name blog\.example\.org;/);
    assert.match(text, /location \^~ \/members\/ \{/);
    assert.match(text, /allowed_groups=club;/);
  });

  it('prints the rollback configuration with nginx --public', async () => {
    assert.doesNotMatch((await output(['nginx', '--public'])).text, /auth_request/);
  });

  it('reports an unknown target together with every bad flag', async () => {
    await assert.rejects(output(['apache', '--auth-cache', 'later']), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 2);
      return true;
    });
  });

  it('refuses --public for targets that deploy latchkey processes', async () => {
    await assert.rejects(output(['compose', '--public']), ConfigError);
  });

  it('refuses --proxy-socket for compose, whose containers talk over the compose network', async () => {
    await assert.rejects(output(['compose', '--proxy-socket', '/run/latchkey/proxy.sock']), (error: unknown) =>
      error instanceof ConfigError && /--proxy-socket: not offered for compose/.test(error.message));
    assert.match((await output(['systemd', '--proxy-socket', '/run/latchkey/proxy.sock'])).text, /ListenStream=\/run\/latchkey\/proxy\.sock/);
  });

  it('refuses --tls-cert and --tls-key for systemd and compose, which would leave them unused, beside every other problem', async () => {
    for (const target of ['systemd', 'compose']) {
      await assert.rejects(output([target, '--single', '--tls-cert', '/etc/ssl/site.pem', '--tls-key=/etc/ssl/site.key', '--colour', 'blue']), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems.map((p) => p.split(':')[0]), ['--colour', '--tls-cert, --tls-key']);
        assert.match(error.problems[1], new RegExp(`not used by ${target}, .*generate nginx or generate caddy`));
        return true;
      });
    }
    assert.match((await output(['nginx', '--single', '--tls-cert', '/etc/ssl/site.pem', '--tls-key', '/etc/ssl/site.key'])).text, /ssl_certificate \/etc\/ssl\/site\.pem;/);
  });

  it('refuses a flag that changes nothing in the chosen target, and takes the same flag where it matters', async () => {
    for (const [argv, flags] of [
      [['caddy', '--auth-cache', '30s'], ['--auth-cache']],
      [['nginx', '--image', 'latchkey:1', '--cookie-name', 'session'], ['--image', '--cookie-name']],
      [['nginx', '--public', '--access-log', 'off'], ['--access-log']],
      [['caddy', '--default-access-log', '/srv/logs/edge.log'], ['--default-access-log']],
      [['nginx', '--public', '--error-log', '/srv/logs/error.log'], ['--error-log']],
      [['systemd', '--site-root', '/srv/site'], ['--site-root']],
    ] as const) {
      await assert.rejects(output([...argv]), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems.map((p) => p.split(':')[0]), flags, argv.join(' '));
        assert.match(error.problems[0], /changes nothing in what generate \w+ prints/);
        return true;
      });
    }
    for (const argv of [['nginx', '--auth-cache', '30s', '--auth-cache-engine', 'lua'], ['compose', '--image', 'latchkey:1', '--cookie-name', 'session'], ['nginx', '--access-log', 'off'], ['nginx', '--public', '--default-access-log', 'off'], ['nginx', '--single', '--default-access-log', '/srv/logs/edge.log'], ['nginx', '--error-log', '/srv/logs/error.log'], ['systemd', '--single', '--site-root', '/srv/site']])
      assert.equal((await output(argv)).code, 0, argv.join(' '));
  });

  it('reports an unknown flag once, not its value too, and suggests the flag meant', async () => {
    await assert.rejects(output(['systemd', '--bogus', '1', '--singel']), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        '--bogus: unknown option (latchkey generate --help lists them all)',
        '--singel: unknown option; did you mean --single? (latchkey generate --help lists them all)',
      ]);
      return true;
    });
  });
});
