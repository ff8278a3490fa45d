// The site-case check's lookup, on a file system that folds case. This machine's file systems do
// not (and a casefold folder needs a kernel option), so the folding one is a stat function that
// looks each name up in lower case, as a case-insensitive file system would.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { caseFoldedFolder } from '../../src/doctor/checks/site-case.ts';

const site = mkdtempSync(join(tmpdir(), 'latchkey-site-case-'));
after(() => rmSync(site, { recursive: true, force: true }));
mkdirSync(join(site, 'private/family'), { recursive: true });
mkdirSync(join(site, '2024'));

const foldingStat = (path: string) => statSync(join(dirname(path), basename(path).toLowerCase()), { throwIfNoEntry: false });

describe('caseFoldedFolder', () => {
  it('names the first protected folder a case-insensitive file system also opens in another case', () => {
    assert.equal(caseFoldedFolder(site, '/private/', foldingStat), '/private → /PRIVATE');
    assert.equal(caseFoldedFolder(site, '/private/family/', foldingStat), '/private → /PRIVATE');
  });

  it('finds nothing on a case-sensitive file system (this one)', () => {
    assert.equal(caseFoldedFolder(site, '/private/'), null);
    assert.equal(caseFoldedFolder(site, '/private/family/'), null);
  });

  it('cannot tell when the protected folder is missing or its name has no letters', () => {
    assert.equal(caseFoldedFolder(site, '/members/', foldingStat), undefined);
    assert.equal(caseFoldedFolder(site, '/2024/', foldingStat), undefined);
  });
});
