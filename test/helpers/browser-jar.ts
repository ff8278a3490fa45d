import { request as httpRequest } from 'node:http';
// A tiny stand-in for a browser: a cookie jar (host + path, as browsers scope cookies; ports are
// not part of a cookie's scope) and fetch that follows redirects by hand so tests see every hop.
interface StoredCookie { name: string; value: string; host: string; path: string }

export interface Hop { url: string; status: number; location: string | null }

export class BrowserJar {
  private cookies: StoredCookie[] = [];

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/'))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }

  store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attr = (key: string) => attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attr('path') ?? '/';
      const expires = attr('expires');
      const maxAge = attr('max-age');
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path && c.host === url.hostname));
      const deleted = (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (!deleted) this.cookies.push({ name, value, host: url.hostname, path });
    }
  }

  has(name: string): boolean {
    return this.cookies.some((c) => c.name === name);
  }

  /**
   * One request, no redirect following. Uses node:http rather than fetch because fetch forces
   * `Sec-Fetch-Mode: cors`, and relying parties such as mod_auth_openidc answer 401 instead of
   * redirecting to anything that is not a top-level navigation, as a browser's is.
   */
  async fetch(url: string | URL, init: { method?: string; headers?: Record<string, string>; body?: URLSearchParams | string } = {}): Promise<Response> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    const body = init.body === undefined ? undefined : String(init.body);
    if (init.body instanceof URLSearchParams) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await this.send(target, init.method ?? 'GET', headers, body);
    this.store(target, response);
    return response;
  }

  /**
   * One exchange over the global keep-alive agent. A server may close an idle connection just as
   * the request goes out on it; a browser then sends the request again on a new connection, and so
   * does this, once (node:http's documented pattern: reusedSocket and ECONNRESET).
   */
  private send(target: URL, method: string, headers: Record<string, string>, body: string | undefined, retried = false): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(target, { method, headers, family: target.hostname === 'localhost' ? 4 : undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const out = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const status = res.statusCode ?? 500;
          resolve(new Response([204, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: out }));
        });
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && error.code === 'ECONNRESET') resolve(this.send(target, method, headers, body, true));
        else reject(error);
      });
      req.end(body);
    });
  }

  /** GETs and follows redirects while `keepGoing(url)` allows; returns the hops and the last response. */
  async follow(url: string, keepGoing: (next: URL) => boolean = () => true, maxHops = 15): Promise<{ hops: Hop[]; response: Response; url: string }> {
    const hops: Hop[] = [];
    let current = url;
    for (let i = 0; i < maxHops; i++) {
      const response = await this.fetch(current);
      const location = response.headers.get('location');
      hops.push({ url: current, status: response.status, location });
      if (response.status < 300 || response.status >= 400 || !location) return { hops, response, url: current };
      const next = new URL(location, current);
      if (!keepGoing(next)) return { hops, response, url: current };
      await response.body?.cancel();
      current = next.href;
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.url).join(' → ')}`);
  }
}

/** Parses the first <form> of a page: its action and its hidden inputs. */
export function parseForm(page: string, baseUrl: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page);
  if (!form) throw new Error(`no form in page: ${page.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const input of form[2].matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&amp;/g, '&').replace(/&quot;/g, '"');
  }
  return { action: new URL(form[1].replace(/&amp;/g, '&'), baseUrl).href, fields };
}
