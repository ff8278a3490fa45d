// latchkey doctor on files: a Hugo site built with and without the private section's _build
// settings (real hugo), and backups made by the real `latchkey backup`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../helpers/deploy-tools.ts';
import { runDoctor } from '../helpers/doctor-deployment.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'latchkey-doctor-files-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('private pages leaking from a Hugo build', () => {
  let leaky: string;
  before(() => {
    // the demo site as most people first write it: a plain private section, tags on a private page
    const source = join(work, 'leaky-site');
    cpSync(join(REPO, 'demo'), source, { recursive: true, filter: (path) => !path.endsWith('/public') });
    writeFileSync(join(source, 'content/private/_index.md'), '---\ntitle: Private\n---\nThe private section.\n');
    writeFileSync(join(source, 'hugo.toml'), readFileSync(join(source, 'hugo.toml'), 'utf8').replace(/^disableKinds.*$/m, ''));
    const plans = join(source, 'content/private/travel-plans.md');
    writeFileSync(plans, readFileSync(plans, 'utf8').replace(/^date:/m, 'tags: [travel]\ndate:'));
    leaky = join(work, 'leaky-public');
    const built = spawnSync(requireTool('hugo'), ['--source', source, '--destination', leaky, '--quiet'], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  });

  it('finds the private pages in the RSS feed, the sitemap and the tag page, and prints the front-matter fix', async () => {
    const check = (await runDoctor(['--json', '--offline', '--site', leaky])).byId('site-leaks');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /\/index\.xml \(RSS feed\) links to \/private\/travel-plans\//);
    assert.match(check.detail, /\/sitemap\.xml \(sitemap\) links to \/private\/reading-list\//);
    assert.match(check.detail, /\/tags\/travel\/index\.html \(tag page\) links to \/private\/travel-plans\//);
    assert.match(check.fix!, /content\/private\/_index\.md[\s\S]*list: never[\s\S]*cascade:[\s\S]*list: local/);
    assert.match(check.fix!, /disableKinds = \['taxonomy', 'term'\]/);
  });

  it('finds a private page quoted in a public search index by its title', async () => {
    const site = join(work, 'search-index');
    cpSync(join(REPO, 'demo/public'), site, { recursive: true });
    writeFileSync(join(site, 'index.json'), JSON.stringify([{ title: 'Summer travel plans', href: '/search-result-1' }]));
    const check = (await runDoctor(['--json', '--offline', '--site', site])).byId('site-leaks');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /\/index\.json \(search index\) shows the title "Summer travel plans" of \/private\/travel-plans\//);
  });

  it('passes the demo site, which has the _build settings and no taxonomies, on a case-sensitive file system', async () => {
    const report = await runDoctor(['--json', '--offline', '--site', join(REPO, 'demo/public')]);
    const check = report.byId('site-leaks');
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /3 private page\(s\); no public file mentions them/);
    // nginx's location ^~ /private/ cannot be bypassed with /PRIVATE/ here (doctor/checks/site-case.ts)
    assert.equal(report.byId('site-case').status, 'ok', report.byId('site-case').detail);
  });
});

describe('backups', () => {
  let id: IdServer;
  let env: Record<string, string>;
  const backupDir = join(work, 'backups');
  before(async () => {
    id = await startIdServer();
    env = { APP_URL: id.origin, ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef', DB_CONNECTION_STRING: join(id.dataDir, 'latchkey.db') };
    const made = spawnSync(process.execPath, [join(REPO, 'src/main.ts'), 'backup', '--out', backupDir], { encoding: 'utf8', env: { ...process.env, ...env, LOG_LEVEL: 'error' } });
    assert.equal(made.status, 0, made.stderr);
  });
  after(() => id?.close());

  it('verifies the latest latchkey backup the way restore --verify does', async () => {
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', backupDir], { env })).byId('backups');
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /verified as latchkey restore --verify does/);
  });

  it('warns when the latest backup is older than 7 days', async () => {
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', backupDir], { env, nowMs: () => Date.now() + 8 * 86_400_000 })).byId('backups');
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /8\.\d days old/);
    assert.match(check.fix!, /latchkey backup --out/);
  });

  it('fails a backup whose ENCRYPTION_KEY is not the configured one', async () => {
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', backupDir], { env: { ...env, ENCRYPTION_KEY: 'another-key-0123456789abcdefghij' } })).byId('backups');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /does not restore: .*ENCRYPTION_KEY/);
  });

  it('verifies it with the key file a localhost server keeps in DATA_DIR, when ENCRYPTION_KEY is not set', async () => {
    const dataDir = join(work, 'localhost-data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'encryption.key'), `${env.ENCRYPTION_KEY}\n`);
    const { ENCRYPTION_KEY: _unused, ...withoutKey } = env;
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', backupDir], { env: { ...withoutKey, DATA_DIR: dataDir } })).byId('backups');
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /verified as latchkey restore --verify does/);
  });

  it('checks the archive alone when the key is not known here', async () => {
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', backupDir])).byId('backups');
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /the archive is intact/);
  });

  it("fails the guide's tar of the data folder: not a backup anything can check", async () => {
    const dir = join(work, 'guide-backups');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'pocket-id.db'), 'not really');
    const tar = spawnSync('tar', ['-czf', join(dir, 'pocket-id-backup-20260101.tar.gz'), '-C', dir, 'data']);
    assert.equal(tar.status, 0);
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', dir], { env })).byId('backups');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /is not a latchkey backup/);
  });

  it('fails a folder without backups', async () => {
    const dir = join(work, 'empty-backups');
    mkdirSync(dir, { recursive: true });
    const check = (await runDoctor(['--json', '--offline', '--backup-dir', dir], { env })).byId('backups');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /no backup archives in/);
  });
});
