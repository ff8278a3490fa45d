// The command line's contract with scripts, for the commands whose usage is checked here: a wrong
// command line exits 2 with the reason (and, where it helps, the usage) on stderr; --help asked for
// prints on stdout and exits 0; refusals name the flags the operator typed.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { createClientsService } from '../../src/oidc/clients.ts';
import { openMigratedDatabase } from '../../src/storage/database.ts';
import { runLatchkey, scratchCommandEnv } from '../helpers/latchkey-cli.ts';

describe('latchkey usage errors and help', () => {
  const { dir, env } = scratchCommandEnv('latchkey-cli-usage-');

  it('exits 2 for an unknown flag, a bad flag value and an unknown action, with the reason on stderr', async () => {
    const [flag, keep, action] = await Promise.all([
      runLatchkey(['client', 'list', '--colour', 'blue'], env),
      runLatchkey(['backup', '--keep', '0'], env),
      runLatchkey(['client', 'frobnicate'], env),
    ]);
    assert.equal(flag.code, 2, flag.stderr);
    assert.match(flag.stderr, /^latchkey client: Unknown option '--colour'/);
    assert.equal(keep.code, 2, keep.stderr);
    assert.match(keep.stderr, /^latchkey backup: --keep: expected a whole number/);
    assert.equal(action.code, 2, action.stderr);
    assert.match(action.stderr, /^latchkey client: unknown action "frobnicate"\n\nusage: latchkey client/);
    for (const run of [flag, keep, action]) assert.equal(run.stdout, '');
  });

  it('refuses a rotate-keys overlap shorter than the two minutes the old key still signs (0 stays allowed)', async () => {
    const run = await runLatchkey(['rotate-keys', '--overlap', '1m'], env);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--overlap: use 0 \(a compromised key: drop it at once\) or at least 5m/);
    assert.equal(run.stdout, '');
  });

  it('prints help asked for with --help or -h on stdout and exits 0, for every command', async () => {
    const commands = [
      ['--help'], ['client', '--help'], ['client', '-h'], ['client', 'show', '--help'], ['backup', '--help'], ['healthcheck', '--help'],
      ['serve', '--help'], ['id', '-h'], ['proxy', '--help'], ['setup-link', '-h'], ['one-time-link', '--help'], ['user', '-h'],
      ['user', 'show', '--help'], ['api-key', '--help'], ['api-key', 'revoke', '-h'], ['rotate-keys', '--help'], ['generate', '--help'],
      ['generate', 'nginx', '-h'], ['doctor', '--help'], ['restore', '-h'], ['version', '--help'],
    ];
    // Three at a time: 21 Node processes started at once from source on two busy cores can pass
    // runLatchkey's 20 s limit (seen twice in full runs), which would fail the test for nothing.
    const runs: { args: string[]; run: Awaited<ReturnType<typeof runLatchkey>> }[] = [];
    for (let i = 0; i < commands.length; i += 3)
      runs.push(...await Promise.all(commands.slice(i, i + 3).map(async (args) => ({ args, run: await runLatchkey(args, env) }))));
    for (const { args, run } of runs) {
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, /^usage: latchkey/i, args.join(' '));
      assert.equal(run.stderr, '', args.join(' '));
    }
  });

  it('answers --version as `latchkey version` (oauth2-proxy users type it)', async () => {
    const [flag, command] = await Promise.all([runLatchkey(['--version'], env), runLatchkey(['version'], env)]);
    assert.equal(flag.code, 0, flag.stderr);
    assert.equal(flag.stdout, command.stdout);
    assert.match(flag.stdout, /latchkey/);
  });

  it('prints the usage on stderr with exit 2 when the command or the action is missing', async () => {
    const [command, action] = await Promise.all([runLatchkey([], env), runLatchkey(['client'], env)]);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /^usage: latchkey <command>/);
    assert.equal(action.code, 2);
    assert.match(action.stderr, /^latchkey client: name an action\n\nusage: latchkey client/);
    for (const run of [command, action]) assert.equal(run.stdout, '');
  });

  it('prints the usage on stderr with exit 2 when generate has no target (it was stdout)', async () => {
    const run = await runLatchkey(['generate'], env);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^latchkey generate: name a target\n\nusage: latchkey generate <target>/);
    assert.equal(run.stdout, '');
  });

  it('names the missing or extra user of one-time-link on stderr with exit 2 (it was the usage on stdout)', async () => {
    const [none, two] = await Promise.all([runLatchkey(['one-time-link'], env), runLatchkey(['one-time-link', 'alice', 'bob'], env)]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr.trim(), 'latchkey one-time-link: missing the username or email: latchkey one-time-link <username|email> [--expires 24h]');
    assert.equal(two.code, 2);
    assert.match(two.stderr, /^latchkey one-time-link: expected one username or email, got 2 \(alice bob\)/);
    for (const run of [none, two]) assert.equal(run.stdout, '');
  });

  it('names the missing API key ID of api-key revoke instead of saying "not found"', async () => {
    const [none, two] = await Promise.all([runLatchkey(['api-key', 'revoke'], env), runLatchkey(['api-key', 'revoke', 'a', 'b'], env)]);
    assert.equal(none.code, 2, none.stderr);
    assert.equal(none.stderr.trim(), 'latchkey api-key: missing the API key ID: latchkey api-key revoke ID');
    assert.equal(two.code, 2, two.stderr);
    assert.match(two.stderr, /^latchkey api-key: expected one API key ID, got 2 \(a b\)/);
    for (const run of [none, two]) assert.equal(run.stdout, '');
  });

  it('refuses an argument a command or action does not take instead of ignoring it', async () => {
    const cases: [string[], RegExp][] = [
      [['setup-link', 'now'], /^latchkey setup-link: Unexpected argument 'now'/],
      [['api-key', 'list', 'all'], /^latchkey api-key: unexpected argument "all": latchkey api-key list$/],
      [['api-key', 'create', 'ci', '--name', 'ci'], /^latchkey api-key: unexpected argument "ci": latchkey api-key create --name NAME$/],
      [['client', 'list', 'all'], /^latchkey client: unexpected argument "all": latchkey client list$/],
      [['client', 'add', 'grafana', '--name', 'Grafana', '--redirect-uri', 'http://localhost:9/cb'], /^latchkey client: unexpected argument "grafana": latchkey client add/],
      [['user', 'list', 'alice', 'bob'], /^latchkey user: unexpected arguments "alice" "bob": latchkey user list/],
      [['user', 'add', 'alice', '--username', 'alice'], /^latchkey user: unexpected argument "alice": latchkey user add/],
      [['user', 'show', 'alice', 'bob'], /^latchkey user: expected one username or email, got 2 \(alice bob\): latchkey user show <username\|email>$/],
      [['user', 'enable'], /^latchkey user: missing the username or email: latchkey user enable <username\|email>$/],
      [['restore', 'a.tar.gz', 'b.tar.gz'], /^latchkey restore: expected one backup file, got 2 \(a\.tar\.gz b\.tar\.gz\): latchkey restore FILE$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runLatchkey(args, env)));
    for (const [i, [args, expected]] of cases.entries()) {
      assert.equal(runs[i].code, 2, `${args.join(' ')}: ${runs[i].stdout}${runs[i].stderr}`);
      assert.match(runs[i].stderr.trim(), expected, args.join(' '));
      assert.equal(runs[i].stdout, '', args.join(' '));
    }
    const [keys, clients, users] = await Promise.all([['api-key'], ['client'], ['user']].map((command) => runLatchkey([...command, 'list', '--json'], env)));
    for (const list of [keys, clients, users]) assert.deepEqual(JSON.parse(list.stdout), [], 'nothing was made');
  });

  it('refuses --json where there is no result to print (the servers, generate) instead of starting a server', async () => {
    const site = mkdtempSync(join(dir, 'site-'));
    const [id, serve, proxy, generate] = await Promise.all([
      runLatchkey(['id', '--json'], { ...env, PORT: '0', HOST: '127.0.0.1' }),
      runLatchkey(['serve', '--json', '--site', site, '--listen', '127.0.0.1:0'], env),
      runLatchkey(['proxy', '--json'], env),
      runLatchkey(['generate', 'nginx', '--json'], env),
    ]);
    assert.equal(id.code, 2, id.stdout + id.stderr);
    assert.equal(id.stderr.trim(), 'latchkey id: --json: latchkey id runs a server and prints no result (its log is JSON lines when not on a terminal)');
    for (const [name, run] of [['serve', serve], ['proxy', proxy], ['generate', generate]] as const) {
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, new RegExp(`^latchkey ${name}: [\\s\\S]*--json: unknown option`));
    }
    for (const run of [id, serve, proxy, generate]) assert.equal(run.stdout, '');
  });

  it('prints the setup link as {"url", "expiresAt"} with --json', async () => {
    const run = await runLatchkey(['setup-link', '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { url: string; expiresAt: string };
    assert.deepEqual(Object.keys(result), ['url', 'expiresAt']);
    assert.match(result.url, /^http:\/\/localhost:1411\/setup\?token=[\w-]+$/);
    assert.ok(Date.parse(result.expiresAt) > Date.now());
  });

  it('names the missing client ID of client show, secret and remove instead of saying "not found"', async () => {
    const runs = await Promise.all(['show', 'secret', 'remove'].map((action) => runLatchkey(['client', action], env)));
    for (const [i, action] of ['show', 'secret', 'remove'].entries()) {
      assert.equal(runs[i].code, 2, runs[i].stderr);
      assert.equal(runs[i].stderr.trim(), `latchkey client: missing the client ID: latchkey client ${action} ID`);
    }
    const extra = await runLatchkey(['client', 'show', 'a', 'b'], env);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /expected one client ID, got 2 \(a b\)/);
  });

  it('words client add refusals with the flags typed, while the API keeps its field names', async () => {
    const uri = 'http://localhost:9/cb';
    const cases: [string[], RegExp][] = [
      [['--name', 'x'], /^latchkey client: --redirect-uri: at least one URI is needed\.$/],
      [['--name', 'x', '--redirect-uri', 'not-a-url'], /^latchkey client: --redirect-uri: "not-a-url" is not an absolute URL\.$/],
      [['--name', 'x', '--redirect-uri', uri, '--post-logout-redirect-uri', 'nope'], /^latchkey client: --post-logout-redirect-uri: "nope" is not an absolute URL\.$/],
      [['--name', 'x', '--redirect-uri', uri, '--backchannel-logout-uri', 'http://example.com/bc'], /^latchkey client: --backchannel-logout-uri: "http:\/\/example\.com\/bc" must use https:\/\//],
      [['--name', 'x', '--redirect-uri', uri, '--id', 'bad id!'], /^latchkey client: --id: A client ID is/],
      [['--redirect-uri', uri], /^latchkey client: --name: A client needs a name/],
      [['--name', 'x', '--redirect-uri', uri, '--group', 'nosuchgroup'], /^latchkey client: --group: No group named "nosuchgroup" exists/],
    ];
    const runs = await Promise.all(cases.map(([flags]) => runLatchkey(['client', 'add', ...flags], env)));
    for (const [i, [flags, expected]] of cases.entries()) {
      assert.equal(runs[i].code, 2, `a refused flag value is a usage error: ${flags.join(' ')}: ${runs[i].stderr}`);
      assert.match(runs[i].stderr.trim(), expected, flags.join(' '));
      assert.doesNotMatch(runs[i].stderr, /redirectUris|postLogoutRedirectUris|backchannelLogoutUri|allowedGroups/);
    }
    assert.equal(JSON.parse((await runLatchkey(['client', 'list', '--json'], env)).stdout).length, 0, 'no client was made');
    // The service, which the admin API uses, still names its JSON fields.
    const database = await openMigratedDatabase(env.DB_CONNECTION_STRING);
    try {
      await assert.rejects(createClientsService({ db: database.db, clock: systemClock }).create({ name: 'x', redirectUris: [] }), { message: "redirectUris: at least one URI is needed." });
    } finally {
      await database.close();
    }
  });
});

describe('latchkey healthcheck --json', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => response.writeHead(request.url === '/healthz' ? 204 : 503).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('prints one JSON object on stdout, healthy or not, with the same exit status as without it', async () => {
    const closed = await new Promise<string>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(`http://127.0.0.1:${port}/healthz`));
      });
    });
    const [healthy, failing, down] = await Promise.all([
      runLatchkey(['healthcheck', '--json'], { INTERNAL_APP_URL: base }),
      runLatchkey(['healthcheck', '--json', '--url', `${base}/ready`]),
      runLatchkey(['healthcheck', '--json', '--url', closed]),
    ]);
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.deepEqual(JSON.parse(healthy.stdout), { ok: true, status: 204, url: `${base}/healthz`, error: null });
    assert.equal(failing.code, 1);
    assert.deepEqual(JSON.parse(failing.stdout), { ok: false, status: 503, url: `${base}/ready`, error: 'answered 503' });
    assert.equal(down.code, 1);
    const result = JSON.parse(down.stdout) as { ok: boolean; status: number | null; url: string; error: string };
    assert.deepEqual({ ...result, error: undefined }, { ok: false, status: null, url: closed, error: undefined });
    assert.match(result.error, /^did not answer/);
    for (const run of [healthy, failing, down]) assert.equal(run.stderr, '');
  });

  it('still says nothing when healthy and why on stderr when not, without --json', async () => {
    const [healthy, failing] = await Promise.all([
      runLatchkey(['healthcheck'], { INTERNAL_APP_URL: base }),
      runLatchkey(['healthcheck', '--url', `${base}/ready`]),
    ]);
    assert.equal(healthy.code, 0);
    assert.equal(healthy.stdout + healthy.stderr, '');
    assert.equal(failing.code, 1);
    assert.equal(failing.stderr.trim(), `unhealthy: ${base}/ready answered 503`);
  });
});
