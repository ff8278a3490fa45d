// latchkey backup writes a manifest that describes exactly the database it archives, even when
// something writes between the moment the manifest's facts are read and the moment pg_dump runs;
// and it writes the snapshot where another user who may write to the --out folder can neither read
// nor replace it. Stand-ins for pg_dump, first on PATH, act at that very moment: the running server
// writing, or another user swapping files in --out.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractArchive } from '../../src/storage/backup/archive.ts';
import { createBackup } from '../../src/storage/backup/create-backup.ts';
import { lastWriteAtMs } from '../../src/storage/backup/database-facts.ts';
import type { BackupManifest } from '../../src/storage/backup/manifest.ts';
import { openDatabase, openMigratedDatabase } from '../../src/storage/database.ts';
import { createTestPostgres, type TestPostgres } from '../helpers/backends.ts';
import { runLatchkey } from '../helpers/latchkey-cli.ts';

const KEY = 'test-encryption-key-0123456789abcdef';
const envFor = (url: string, extra: Record<string, string> = {}) => ({ APP_URL: 'http://localhost:1411', DB_CONNECTION_STRING: url, ENCRYPTION_KEY: KEY, ...extra });
const realTools = (process.env.PATH ?? '').split(':').find((dir) => existsSync(join(dir, 'pg_dump')) && existsSync(join(dir, 'psql')));

const userRow = (id: string, atMs: number) =>
  `insert into users (id, username, email, first_name, last_name, is_admin, disabled, email_verified, created_at, updated_at) values ('${id}', '${id}', null, '', '', 0, 0, 0, ${atMs}, ${atMs})`;

/** A folder holding a pg_dump that runs `before` (shell) and then the real pg_dump; for PATH. */
function pgDumpThatFirst(dir: string, before: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pg_dump'), `#!/bin/sh\n${before}\nexec "${realTools}/pg_dump" "$@"\n`, { mode: 0o755 });
  return `${dir}:${process.env.PATH ?? ''}`;
}

describe('a PostgreSQL backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-backup-consistent-'));
  let source: TestPostgres;
  let target: TestPostgres;

  before(async () => {
    assert.ok(realTools, 'pg_dump and psql are on PATH');
    source = await createTestPostgres();
    target = await createTestPostgres();
    const database = await openMigratedDatabase(source.url);
    try {
      await sql.raw(userRow('before-the-backup', Date.now() - 60_000)).execute(database.db);
    } finally {
      await database.close();
    }
  });
  after(async () => {
    await source.drop();
    await target.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('archives the database its manifest describes, though a write lands after the facts are read and before pg_dump starts', async () => {
    // the write the running server makes at the worst moment: a sign-in an hour from now, so it is the newest
    const betweenMs = Date.now() + 3_600_000;
    const path = pgDumpThatFirst(join(work, 'writes-first'),
      `"${realTools}/psql" --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --dbname="$WRITE_URL" --command="${userRow('written-in-between', betweenMs)}" || exit 1`);
    const made = await runLatchkey(['backup', '--out', join(work, 'out'), '--json'], envFor(source.url, { PATH: path, WRITE_URL: source.url }));
    assert.equal(made.code, 0, made.stderr);
    const { path: archive, manifest } = JSON.parse(made.stdout) as { path: string; manifest: BackupManifest };

    const check = await openDatabase(source.url);
    try {
      assert.equal(await lastWriteAtMs(check.db), betweenMs, 'the stand-in did write, after the facts were read');
    } finally {
      await check.close();
    }
    const restored = await runLatchkey(['restore', '--force', archive], envFor(target.url));
    assert.equal(restored.code, 0, restored.stderr);
    const database = await openDatabase(target.url);
    try {
      const archived = await lastWriteAtMs(database.db);
      assert.equal(archived === null ? null : new Date(archived).toISOString(), manifest.database.lastWriteAt, 'the dump holds what the manifest says, no more');
      const users = await database.db.selectFrom('users').select('username').orderBy('username').execute();
      assert.deepEqual(users.map((user) => user.username), ['before-the-backup']);
    } finally {
      await database.close();
    }
  });

  it('is written where another user who may write to --out cannot swap the dump for a file of theirs', async () => {
    // --out shared with other users, without the sticky bit: they may rename and replace any file in it
    const out = join(work, 'shared-out');
    const theirs = join(work, 'theirs');
    mkdirSync(out, { mode: 0o777 });
    mkdirSync(theirs);
    // when pg_dump starts, each file in --out is renamed away, and an empty world-writable file of
    // theirs takes its name (a hard link in their folder lets them read what lands in it)
    const path = pgDumpThatFirst(join(work, 'swaps-first'), [
      `for found in "${out}"/.* "${out}"/*; do`,
      '  if [ -f "$found" ] && [ ! -L "$found" ]; then',
      '    mv "$found" "$found.moved" && : > "$found" && chmod 666 "$found" && ln "$found" "' + theirs + '/$(basename "$found")"',
      '  fi',
      'done',
    ].join('\n'));
    const made = await runLatchkey(['backup', '--out', out, '--json'], envFor(source.url, { PATH: path }));
    assert.equal(made.code, 0, made.stderr);
    for (const name of readdirSync(theirs))
      assert.equal(readFileSync(join(theirs, name), 'utf8'), '', `nothing of the dump reached their file ${name}`);
    const { path: archive } = JSON.parse(made.stdout) as { path: string };
    assert.deepEqual(readdirSync(out), [archive.split('/').at(-1)], 'only the archive is left in --out');
    const extracted = await extractArchive(archive, join(work, 'extracted.sql'));
    assert.match(readFileSync(extracted.payloadPath, 'utf8'), /before-the-backup/, 'the archive holds the real dump');
  });
});

describe('a SQLite backup', () => {
  const work = mkdtempSync(join(tmpdir(), 'latchkey-backup-private-'));
  const source = join(work, 'data', 'latchkey.db');
  after(() => rmSync(work, { recursive: true, force: true }));

  it('keeps the snapshot where another user who may write to --out can neither see it nor swap it for a forged one', async () => {
    await (await openMigratedDatabase(source)).close();
    const out = join(work, 'shared-out');
    mkdirSync(out, { mode: 0o777 });
    const seenInOut: string[] = [];
    // Called while the backup reads its facts from the snapshot it has just written: the moment
    // another user would swap the snapshot before it is checksummed and archived.
    const keyOpensSigningKey = async () => {
      for (const name of readdirSync(out)) {
        const found = lstatSync(join(out, name));
        seenInOut.push(`${name} ${found.isDirectory() ? 'folder' : 'file'} ${(found.mode & 0o777).toString(8)}`);
        if (!found.isFile()) continue; // a folder of another user's, mode 0700: they cannot enter it
        renameSync(join(out, name), join(out, `${name}.moved`));
        writeFileSync(join(out, name), 'forged by another user', { mode: 0o666 });
      }
      return null;
    };
    const { path, manifest } = await createBackup({
      dbConnectionString: source, encryptionKey: Buffer.from(KEY), outDir: out, latchkeyVersion: '0.0.0-test', now: () => new Date(), keyOpensSigningKey,
    });
    assert.ok(seenInOut.length > 0, 'the backup was looked at while it ran');
    for (const entry of seenInOut) assert.match(entry, /^\.latchkey-backup-\w{6} folder 700$/, 'while the backup runs, --out holds nothing but its private folder');
    assert.notEqual(manifest.database.bytes, 'forged by another user'.length);
    const extracted = await extractArchive(path, join(work, 'extracted.db'));
    assert.notEqual(readFileSync(extracted.payloadPath, 'utf8'), 'forged by another user', 'the archive holds the real snapshot');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});
