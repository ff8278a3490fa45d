// Reading a backup onto a full disk: the restore must stop with its own message and leave nothing
// behind. /dev/full answers every write with ENOSPC, as a full disk does; the payload path is a
// symlink to it, so the clean-up removes the link, never the device.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { extractArchive, sha256OfFile, writeArchive } from '../../src/storage/backup/archive.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type BackupManifest } from '../../src/storage/backup/manifest.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-disk-full-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('extracting a backup onto a full disk', () => {
  it('stops with "the disk is full", without calling the backup damaged, and removes its partial file', async (t) => {
    if (!existsSync('/dev/full')) throw new Error('/dev/full is missing; this Linux test needs it');
    const payload = join(dir, 'latchkey.db');
    writeFileSync(payload, randomBytes(4 * 1024 * 1024)); // several writes, so one has to wait for drain
    const { sha256, bytes } = await sha256OfFile(payload);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION, latchkeyVersion: '0.0.0-test', createdAt: new Date().toISOString(),
      database: { kind: 'sqlite', file: 'latchkey.db', bytes, sha256, migrations: ['0001'], lastWriteAt: null },
      encryptionKeyFingerprint: 'sha256:00000000000000000000000000000000',
    };
    const archive = join(dir, 'backup.tar.gz');
    await writeArchive(archive, manifest, payload);
    const scratch = join(dir, 'restore.partial');
    symlinkSync('/dev/full', scratch);
    const outcome = await Promise.race([
      extractArchive(archive, scratch).then(() => 'extracted', (error: { code?: string; message: string }) => error),
      new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting after 10 s')).then((value) => { t.diagnostic(String(value)); return value; }),
    ]);
    assert.equal((outcome as { code?: string }).code, 'disk_full', String((outcome as { message?: string }).message ?? outcome));
    assert.match((outcome as { message: string }).message, /disk is full.*nothing was changed/);
    assert.equal(existsSync(scratch), false, 'the partial file (here the link) is gone');
    assert.ok(existsSync('/dev/full'));
  });
});
