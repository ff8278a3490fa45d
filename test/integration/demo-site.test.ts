// The demo Hugo site (demo/) and its committed build (demo/public/): the public output must not
// mention any private page, and the committed output must be what the sources build today.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const demo = new URL('../../demo/', import.meta.url).pathname;
const built = join(demo, 'public');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// Lower-case words only, so markup, entities and typographic quotes cannot hide a match. Tags are
// not stripped: a leak inside an attribute (a meta description) counts too.
const words = (text: string) => ` ${text.toLowerCase().replace(/&[a-z]+;|&#\d+;/g, ' ').replace(/[^a-z0-9]+/g, ' ').trim()} `;

/**
 * Titles, descriptions, opening words of each paragraph and URL of every private page. Section
 * titles ("Private", "Family") are left out: the public menu names the sections on purpose.
 */
function privateMarkers(contentFolder = 'content/private', withSections = true): string[] {
  const markers: string[] = [];
  for (const file of filesUnder(join(demo, contentFolder))) {
    if (!withSections && file.endsWith('_index.md')) continue;
    const source = readFileSync(file, 'utf8');
    const [, frontMatter, body] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(source)!;
    const isSection = file.endsWith('_index.md');
    for (const key of isSection ? ['description'] : ['title', 'description']) {
      const value = new RegExp(`^${key}: (.+)$`, 'm').exec(frontMatter)?.[1];
      if (value) markers.push(value);
    }
    for (const paragraph of body.split(/\n\s*\n/)) {
      const opening = words(paragraph).trim().split(' ').slice(0, 6).join(' ');
      if (opening.split(' ').length === 6) markers.push(opening);
    }
    const slug = relative(join(demo, 'content'), file).replace(/(_index)?\.md$/, '').replace(/\/$/, '');
    if (!slug.endsWith('/family') && slug !== 'private') markers.push(`/${slug}/`);
  }
  return markers;
}

describe('demo site', () => {
  const publicFiles = filesUnder(built).filter((file) => !relative(built, file).startsWith('private/'));
  const privateFiles = filesUnder(join(built, 'private'));
  const markers = privateMarkers();

  it('finds its private markers in the private output, so the leak check below can fail', () => {
    const privateText = privateFiles.map((file) => words(readFileSync(file, 'utf8'))).join(' ');
    assert.ok(markers.length >= 10, `only ${markers.length} markers`);
    for (const marker of markers.filter((m) => !m.startsWith('/'))) assert.ok(privateText.includes(words(marker)), marker);
  });

  it('has the feeds, sitemap and home page the leak check reads', () => {
    for (const name of ['index.html', 'index.xml', 'sitemap.xml', '404.html']) assert.ok(publicFiles.includes(join(built, name)), name);
  });

  it('mentions no private page text or address in any public file, feed or sitemap', () => {
    for (const file of publicFiles) {
      const text = readFileSync(file, 'utf8');
      for (const marker of markers) {
        if (marker.startsWith('/')) assert.ok(!text.includes(marker), `${relative(built, file)} links to ${marker}`);
        else assert.ok(!words(text).includes(words(marker)), `${relative(built, file)} contains "${marker}"`);
      }
    }
  });

  it('keeps the family pages out of the rest of the private section, whose readers may not be in the family group', () => {
    const familyMarkers = privateMarkers('content/private/family', false);
    assert.ok(familyMarkers.length >= 3);
    for (const file of privateFiles.filter((f) => !relative(built, f).startsWith('private/family/'))) {
      const text = readFileSync(file, 'utf8');
      for (const marker of familyMarkers) {
        if (marker.startsWith('/')) assert.ok(!text.includes(marker), `${relative(built, file)} links to ${marker}`);
        else assert.ok(!words(text).includes(words(marker)), `${relative(built, file)} contains "${marker}"`);
      }
    }
  });

  it('reveals no private page date through the sitemap or the feed', () => {
    const privateDates = filesUnder(join(demo, 'content/private')).map((file) => /^date: (\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1]).filter(Boolean);
    assert.ok(privateDates.length > 0);
    const feedAndSitemap = readFileSync(join(built, 'index.xml'), 'utf8') + readFileSync(join(built, 'sitemap.xml'), 'utf8');
    for (const date of privateDates) {
      assert.ok(!feedAndSitemap.includes(date!), `sitemap.xml shows ${date}`);
      assert.ok(!feedAndSitemap.includes(new Date(date!).toUTCString().slice(0, 16)), `index.xml shows ${date}`);
    }
  });

  it('is rebuilt by hugo into exactly the committed files', () => {
    const out = mkdtempSync(join(tmpdir(), 'latchkey-demo-'));
    try {
      try {
        execFileSync('hugo', ['--source', demo, '--destination', join(out, 'public'), '--baseURL', 'http://localhost:8080/', '--noBuildLock', '--quiet'], {
          env: { ...process.env, HUGO_RESOURCEDIR: join(out, 'resources'), HUGO_CACHEDIR: join(out, 'cache') },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        assert.fail(`hugo failed or is not installed (apt-get install hugo): ${(error as Error).message}`);
      }
      const rebuilt = filesUnder(join(out, 'public')).map((file) => relative(join(out, 'public'), file)).sort();
      const committed = filesUnder(built).map((file) => relative(built, file)).sort();
      assert.deepEqual(rebuilt, committed);
      for (const name of committed) {
        assert.ok(readFileSync(join(out, 'public', name)).equals(readFileSync(join(built, name))), `${name} differs from a fresh build; rebuild demo/public`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
