// Every admin page, form and JSON endpoint refuses people who are not admins. The routes are read
// back from the running app, so a route added later is checked without anyone listing it here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { POCKET_ID_ROUTES } from '../../src/oidc/paths.ts';
import { BrowserJar } from '../helpers/browser-jar.ts';
import { idBrowser } from '../helpers/id-browser.ts';
import { startIdServer, type IdServer } from '../helpers/id-server.ts';
import { registeredRoutes, type RegisteredRoute } from '../helpers/registered-routes.ts';

// /api routes that are not the admin API: the provider's endpoints and the passkey ceremonies.
// A new /api route is treated as admin-only here until it is listed as public.
const PUBLIC_API = [...Object.values(POCKET_ID_ROUTES).filter((path) => path.startsWith('/api/')), '/api/webauthn/'];
const isPublicApi = (url: string) => PUBLIC_API.some((prefix) => url === prefix || url.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));

const CHANGES = ['POST', 'PUT', 'DELETE', 'PATCH'];
const TESTED_METHODS = ['GET', ...CHANGES];

/** Each route × method worth requesting, with path parameters filled in. */
function requestsFor(routes: RegisteredRoute[], matches: (url: string) => boolean) {
  return routes.filter((r) => matches(r.url)).flatMap((r) => r.methods.filter((m) => TESTED_METHODS.includes(m))
    .map((method) => ({ method, path: r.url.replace(/:\w+/g, 'some-id'), label: `${method} ${r.url}` })));
}

describe('admin authorization, route by route', () => {
  let id: IdServer;
  let member: ReturnType<typeof idBrowser>;
  let admin: ReturnType<typeof idBrowser>;
  let routes: RegisteredRoute[];

  const signedInVia = async (username: string, isAdmin: boolean) => {
    const user = await id.services.identity.users.create({ username, isAdmin });
    const { token } = await id.services.identity.links.issue('signin', user.id, 600);
    const browser = idBrowser(id.origin);
    assert.equal((await browser.useOneTimeLink(token)).status, 303);
    return browser;
  };
  const send = (jar: BrowserJar, method: string, path: string, headers: Record<string, string> = {}) =>
    jar.fetch(new URL(path, id.origin), {
      method, headers: { origin: id.origin, 'sec-fetch-site': 'same-origin', ...(CHANGES.includes(method) ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      ...(CHANGES.includes(method) ? { body: '' } : {}),
    });

  before(async () => {
    id = await startIdServer();
    admin = await signedInVia('root', true);
    member = await signedInVia('member', false);
    routes = registeredRoutes(id.app);
  });
  after(() => id?.close());

  it('finds the admin console and the admin API among the registered routes', () => {
    const pages = requestsFor(routes, (url) => url.startsWith('/admin'));
    const api = requestsFor(routes, (url) => url.startsWith('/api/') && !isPublicApi(url));
    assert.ok(pages.length >= 30, `only ${pages.length} admin page requests found`);
    for (const expected of ['POST /admin/users/:id/delete', 'POST /admin/clients/:id/secret', 'GET /admin/audit'])
      assert.ok(pages.some((p) => p.label === expected), `${expected} is not registered`);
    for (const expected of ['POST /api/users', 'DELETE /api/oidc/clients/:id', 'GET /api/audit-log'])
      assert.ok(api.some((p) => p.label === expected), `${expected} is not registered`);
  });

  it('sends a signed-out visitor of every /admin page and form to sign in', async () => {
    for (const { method, path, label } of requestsFor(routes, (url) => url.startsWith('/admin'))) {
      const response = await send(new BrowserJar(), method, path, { accept: 'text/html' });
      assert.ok([302, 303].includes(response.status), `${label}: expected a redirect, got ${response.status}`);
      const location = new URL(response.headers.get('location') ?? '', id.origin);
      assert.equal(location.pathname, '/login', `${label}: redirected to ${location.href}`);
      assert.match(location.searchParams.get('next') ?? '', /^\/admin/, label);
    }
  });

  it('answers 403 to a signed-in non-admin on every /admin page and form', async () => {
    for (const { method, path, label } of requestsFor(routes, (url) => url.startsWith('/admin'))) {
      const response = await send(member.jar, method, path, { accept: 'text/html' });
      assert.equal(response.status, 403, label);
      assert.match(await response.text(), /for administrators/, `${label}: refused for another reason`);
    }
  });

  it('answers 401 to a caller of every admin API route with neither session nor API key', async () => {
    for (const { method, path, label } of requestsFor(routes, (url) => url.startsWith('/api/') && !isPublicApi(url))) {
      const response = await send(new BrowserJar(), method, path, { accept: 'application/json' });
      assert.equal(response.status, 401, label);
      assert.equal(((await response.json()) as { error: string }).error, 'unauthorized', label);
    }
  });

  it('answers 403 to a signed-in non-admin on every admin API route', async () => {
    for (const { method, path, label } of requestsFor(routes, (url) => url.startsWith('/api/') && !isPublicApi(url))) {
      const response = await send(member.jar, method, path, { accept: 'application/json' });
      assert.equal(response.status, 403, label);
      assert.equal(((await response.json()) as { error: string }).error, 'forbidden', label);
    }
  });

  it('lets an admin through the same guard on every /admin page (the refusals above are not blanket ones)', async () => {
    for (const { path, label } of requestsFor(routes, (url) => url.startsWith('/admin')).filter((r) => r.method === 'GET')) {
      const response = await send(admin.jar, 'GET', path, { accept: 'text/html' });
      // Made-up ids are "not found"; what matters is that the admin got past the guard.
      assert.ok(response.status === 200 || (response.status === 404 && path.includes('some-id')), `${label}: ${response.status}`);
    }
  });

  it('refuses an admin form post that lacks the page\'s CSRF token, and links back to the form', async () => {
    const response = await send(admin.jar, 'POST', '/admin/groups', { accept: 'text/html', referer: `${id.origin}/admin/groups/new` });
    assert.equal(response.status, 403);
    const page = await response.text();
    assert.match(page, /This form expired for security reasons, so it was not sent\. Go back, reload the form and send it again\./);
    assert.match(page, /<a href="\/admin\/groups\/new">Go back to the form<\/a>/);
    assert.equal((await id.services.identity.groups.list()).length, 0);
  });

  it('links an expired form to the admin home when the Referer is another site\'s', async () => {
    const response = await send(admin.jar, 'POST', '/admin/groups', { accept: 'text/html', referer: 'https://evil.example//admin' });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /<a href="\/admin">Go back to the form<\/a>/);
  });
});
