import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { type Check, fail, ok, skip } from '../check.ts';

// Hugo lists pages of every section in the site-wide RSS (index.xml, full text included), the
// sitemap, the home page, list pages, tag pages and search indexes. The edge protects the files
// under /private/, but these public files would still carry the private pages' links, titles and
// text. The scan looks for each private page's address, title and opening text in every public file.

const TEXT_FILES = /\.(html?|xml|json|txt|js)$/i;
const MAX_FINDINGS = 12;

interface PrivatePage { url: string; file: string; title: string | null; snippet: string | null }

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : TEXT_FILES.test(name) ? [path] : [];
  });
}

const decodeEntities = (text: string) => text.replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
  .replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&');
const plain = (html: string) => decodeEntities(html.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
/** What a public file says, with markup, escapes and JSON's \/ removed, for matching titles and text. */
const normalise = (text: string) => plain(decodeEntities(text.replace(/\\\//g, '/').replace(/\\u003c/gi, '<').replace(/\\u003e/gi, '>').replace(/\\u0026/gi, '&')));

function privatePage(siteDir: string, file: string, siteTitle: string | null): PrivatePage {
  const html = readFileSync(file, 'utf8');
  const path = `/${relative(siteDir, file).split(sep).join('/')}`;
  const url = path.endsWith('/index.html') ? path.slice(0, -'index.html'.length) : path;
  const rawTitle = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1] ?? /<title>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? '';
  // "Page | Site": keep the page's part; a title no longer than a word matches too much to mean anything
  const title = plain(rawTitle).split(/ [|–—-] /).filter((part) => part !== siteTitle).sort((a, b) => b.length - a.length)[0] ?? '';
  const body = /<(?:main|article)[^>]*>([\s\S]*?)<\/(?:main|article)>/i.exec(html)?.[1] ?? html;
  const paragraph = [...body.matchAll(/<p[^>]*>([\s\S]*?)<\/p>/gi)].map((m) => plain(m[1])).find((p) => p.length >= 40);
  return { url, file, title: title.length >= 8 ? title : null, snippet: paragraph ? paragraph.slice(0, 60) : null };
}

const kindOf = (path: string) => /(^|\/)sitemap[^/]*\.xml$/.test(path) ? 'sitemap' : /\.xml$/.test(path) ? 'RSS feed'
  : /\.json$/.test(path) ? 'search index' : /\/(tags|categories|series)\//.test(path) ? 'tag page' : path === '/index.html' ? 'home page' : 'list page';

/** Why a check of the built site did not run. */
export const NO_SITE = "no built site given (--site DIR: Hugo's public/ folder)";

export const siteLeaks: Check = {
  id: 'site-leaks',
  title: 'No public page, feed, sitemap or search index of the built site mentions a private page',
  run(ctx) {
    const siteDir = ctx.inputs.siteDir;
    if (!siteDir) return skip(NO_SITE);
    const files = walk(siteDir);
    const urlOf = (file: string) => `/${relative(siteDir, file).split(sep).join('/')}`;
    const isPrivate = (file: string) => ctx.privatePaths.some((p) => urlOf(file).startsWith(p));
    const home = files.find((f) => urlOf(f) === '/index.html');
    const siteTitle = home ? plain(/<title>([\s\S]*?)<\/title>/i.exec(readFileSync(home, 'utf8'))?.[1] ?? '') || null : null;
    // Section pages (a folder Hugo also gives an index.xml) say only that a section exists, and the
    // site's own text may link them on purpose; the pages inside them are what must not show.
    const isSection = (f: string) => f.endsWith(`${sep}index.html`) && files.includes(f.replace(/index\.html$/, 'index.xml'));
    const pages = files.filter((f) => isPrivate(f) && /\.html?$/.test(f) && !isSection(f))
      .map((f) => privatePage(siteDir, f, siteTitle));
    if (!pages.length) return ok(`no pages under ${ctx.privatePaths.join(', ')} in ${siteDir}: nothing that could leak`);

    const findings: { file: string; kind: string; page: string; what: string }[] = [];
    for (const file of files.filter((f) => !isPrivate(f))) {
      const raw = readFileSync(file, 'utf8').replace(/\\\//g, '/');
      const text = normalise(raw);
      for (const page of pages) {
        const what = raw.includes(page.url) ? 'links to' : page.title && text.includes(page.title) ? `shows the title "${page.title}" of` : page.snippet && text.includes(page.snippet) ? 'quotes the text of' : null;
        if (what) findings.push({ file: urlOf(file), kind: kindOf(urlOf(file)), page: page.url, what });
      }
    }
    if (!findings.length) return ok(`${pages.length} private page(s); no public file mentions them`);
    const shown = findings.slice(0, MAX_FINDINGS).map((f) => `${f.file} (${f.kind}) ${f.what} ${f.page}`);
    const more = findings.length > MAX_FINDINGS ? `; and ${findings.length - MAX_FINDINGS} more` : '';
    const section = ctx.privatePaths[0].replace(/^\/|\/$/g, '');
    const tags = findings.some((f) => f.kind === 'tag page');
    return fail(`${findings.length} mention(s) of private pages in public files: ${shown.join('; ')}${more}`,
      `in content/${section}/_index.md front matter:\n    _build:\n      list: never\n    cascade:\n      _build:\n        list: local\n` +
      `${tags ? 'and no tags/categories on private pages, or in hugo.toml: disableKinds = [\'taxonomy\', \'term\']\n' : 'and keep tags off private pages (or disableKinds = [\'taxonomy\', \'term\'])\n'}then rebuild (hugo) and run doctor again`);
  },
};
