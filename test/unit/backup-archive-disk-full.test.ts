// Reading a backup onto a full disk: the restore must stop with its own message and leave nothing
// behind. The payload is always made as a new file (never written through a link, so /dev/full
// cannot stand in for it any more): the file system's writes answer ENOSPC instead, as a full disk
// does, from the first one on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { extractArchive, sha256OfFile, writeArchive } from '../../src/storage/backup/archive.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupManifest } from '../../src/storage/backup/manifest.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-disk-full-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const diskFull = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

describe('extracting a backup onto a full disk', () => {
  it('stops with "the disk is full", without calling the backup damaged, and removes its partial file', async (t) => {
    const payload = join(dir, 'latchkey.db');
    writeFileSync(payload, randomBytes(4 * 1024 * 1024)); // several writes, so one has to wait for drain
    const { sha256, bytes } = await sha256OfFile(payload);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, latchkeyVersion: '0.0.0-test', createdAt: new Date().toISOString(),
      database: { kind: 'sqlite', file: 'latchkey.db', bytes, sha256, migrations: ['0001'], lastWriteAt: null },
      encryptionKeyFingerprint: 'sha256:00000000000000000000000000000000',
    };
    const archive = join(dir, 'backup.tar.gz');
    await writeArchive(archive, manifest, payload, join(dir, 'backup.tar.gz.tmp'));
    const scratch = join(dir, 'restore.partial');
    // fs.WriteStream writes through the fs module's write and writev
    for (const name of ['write', 'writev'] as const)
      mock.method(fs, name, (...args: unknown[]) => process.nextTick(args.at(-1) as (error: Error) => void, diskFull()));
    let outcome: unknown;
    try {
      outcome = await Promise.race([
        extractArchive(archive, scratch).then(() => 'extracted', (error: { code?: string; message: string }) => error),
        new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting after 10 s')).then((value) => { t.diagnostic(String(value)); return value; }),
      ]);
    } finally {
      mock.restoreAll();
    }
    assert.equal((outcome as { code?: string }).code, 'disk_full', String((outcome as { message?: string }).message ?? outcome));
    assert.match((outcome as { message: string }).message, /disk is full.*nothing was changed/);
    assert.equal(existsSync(scratch), false, 'the partial file is gone');
  });
});
