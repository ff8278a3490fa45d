// doctor with the guide's environment, which sets no DB_CONNECTION_STRING: latchkey id then keeps
// its database in data/latchkey.db relative to the folder it runs in. doctor cannot know that
// folder, so its database checks say which default it would be and how to point at it, instead of
// a bare "no database given" or a guessed path.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runDoctor } from '../helpers/doctor-deployment.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-doctor-db-default-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = new URL('../fixtures/doctor/', import.meta.url).pathname;
const DATABASE_CHECKS = ['passkey-recovery', 'client-registration', 'database-file-mode'];
const guideEnv = { APP_URL: 'https://id.example.com', TRUST_PROXY: '127.0.0.1', ENCRYPTION_KEY: 'test-encryption-key-0123456789abcdef' };

describe('doctor: the database when none is given', () => {
  it("names latchkey id's default, data/latchkey.db, as relative to the folder latchkey id runs in, and --db", async () => {
    const doctor = await runDoctor(['--json', '--offline'], { env: guideEnv });
    for (const id of DATABASE_CHECKS) {
      const check = doctor.byId(id);
      assert.equal(check.status, 'skip', id);
      assert.match(check.detail, /without DB_CONNECTION_STRING latchkey id uses data\/latchkey\.db relative to the folder it runs in, which doctor cannot know: --db THAT-FOLDER\/data\/latchkey\.db/, `${id}: ${check.detail}`);
    }
  });

  it('says so when this folder has a data/latchkey.db, without using it', async () => {
    const here = process.cwd();
    mkdirSync(join(dir, 'app', 'data'), { recursive: true });
    writeFileSync(join(dir, 'app', 'data', 'latchkey.db'), '', { mode: 0o600 });
    process.chdir(join(dir, 'app'));
    try {
      const check = (await runDoctor(['--json', '--offline'], { env: guideEnv })).byId('database-file-mode');
      assert.equal(check.status, 'skip');
      assert.match(check.detail, /there is one in this folder: --db data\/latchkey\.db if latchkey id runs here/);
    } finally {
      process.chdir(here);
    }
  });

  it('reads DB_CONNECTION_STRING_FILE as latchkey id does', async () => {
    const db = join(dir, 'secret.db');
    writeFileSync(db, '', { mode: 0o600 });
    writeFileSync(join(dir, 'db-connection-string'), `${db}\n`);
    const check = (await runDoctor(['--json', '--offline'], { env: { ...guideEnv, DB_CONNECTION_STRING_FILE: join(dir, 'db-connection-string') } })).byId('database-file-mode');
    assert.equal(check.status, 'ok', check.detail);
    assert.match(check.detail, /secret\.db is readable by its owner only/);
  });

  it("says a compose service's database is inside its container, and that Pocket ID's is not one it reads", async () => {
    const compose = join(dir, 'compose.yaml');
    writeFileSync(compose, 'services:\n  id:\n    image: latchkey:latest\n    command: [id]\n    environment:\n      APP_URL: https://id.example.com\n');
    const latchkey = (await runDoctor(['--json', '--offline', '--compose', compose])).byId('passkey-recovery');
    assert.equal(latchkey.status, 'skip');
    assert.match(latchkey.detail, /the database of compose service "id" is inside its container \(\/data\/latchkey\.db, the latchkey image's default\); give its path on this machine \(the volume\) with --db/);
    writeFileSync(compose, 'services:\n  id:\n    image: latchkey:latest\n    command: [id]\n    environment:\n      APP_URL: https://id.example.com\n      DB_CONNECTION_STRING: /srv/latchkey.db\n');
    assert.match((await runDoctor(['--json', '--offline', '--compose', compose])).byId('passkey-recovery').detail, /inside its container \(\/srv\/latchkey\.db\)/);
    const pocketId = (await runDoctor(['--json', '--offline', '--compose', `${FIXTURES}guide-pocket-id.yml`])).byId('passkey-recovery');
    assert.match(pocketId.detail, /runs Pocket ID \(ghcr\.io\/pocket-id\/pocket-id:latest\), whose database latchkey's checks do not read/);
  });
});

describe("doctor: another application's database", () => {
  it('says it is not latchkey\'s and leaves the file as it was (it used to switch it to WAL)', async () => {
    const path = join(dir, 'pocket-id.db');
    const other = new DatabaseSync(path);
    other.exec("PRAGMA journal_mode = DELETE; create table app_config_variables (key text primary key, value text); insert into app_config_variables values ('appName', 'Pocket ID');");
    other.close();
    const before = readFileSync(path);
    const check = (await runDoctor(['--json', '--offline', '--db', path], { env: guideEnv })).byId('passkey-recovery');
    assert.deepEqual(readFileSync(path), before, 'not a byte changed');
    assert.equal(check.status, 'fail');
    assert.match(check.detail, /is not latchkey's database: it holds tables latchkey did not make \(app_config_variables\)/, check.detail);
  });
});
