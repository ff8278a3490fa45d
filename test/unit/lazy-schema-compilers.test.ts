// src/app/lazy-schema-compilers.ts: the identity provider's routes validate exactly as with
// fastify's own compilers (same Ajv options, same answers, same coercion), and Ajv is loaded at the
// first validated request rather than at start. The id app's own route tests (id-admin-api,
// id-sign-in and the passkey flows) go through every route schema with these compilers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { lazySchemaController } from '../../src/app/lazy-schema-compilers.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The id app's Ajv options (src/app/id-app.ts).
const ajv = { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true } } as const;
const body = {
  type: 'object', required: ['name'], additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1 }, tags: { type: 'array', items: { type: 'string' } } },
} as const;
const querystring = { type: 'object', properties: { n: { type: 'integer' } } } as const;

async function appWith(schemaController?: typeof lazySchemaController): Promise<FastifyInstance> {
  const app = Fastify({ ajv, ...(schemaController && { schemaController }) });
  app.post('/things', { schema: { body, querystring } }, async (request) => ({ body: request.body, query: request.query }));
  await app.ready();
  return app;
}

describe('lazy schema compilers', () => {
  it('answer every request as fastify\'s own compilers do, coercion and error messages included', async () => {
    const [eager, lazy] = [await appWith(), await appWith(lazySchemaController)];
    after(() => Promise.all([eager.close(), lazy.close()]));
    const requests = [
      { url: '/things?n=5', payload: { name: 'a', tags: 'one' } }, // coerced: n to 5, tags to ['one']
      { url: '/things', payload: { name: 'a', tags: ['x', 'y'] } },
      { url: '/things', payload: { name: '' } },
      { url: '/things', payload: { tags: [1] } },
      { url: '/things', payload: { name: 'a', extra: true } },
      { url: '/things?n=five', payload: { name: 'a' } },
      { url: '/things', payload: '[]', headers: { 'content-type': 'application/json' } },
    ];
    const answers = [];
    for (const request of requests) {
      const [a, b] = [await eager.inject({ method: 'POST', ...request }), await lazy.inject({ method: 'POST', ...request })];
      assert.equal(b.statusCode, a.statusCode, request.url);
      assert.deepEqual(b.json(), a.json(), JSON.stringify(request));
      answers.push(a.statusCode);
    }
    assert.deepEqual(answers, [200, 200, 400, 400, 400, 400, 400]);
    assert.deepEqual((await lazy.inject({ method: 'POST', ...requests[0] })).json(), { body: { name: 'a', tags: ['one'] }, query: { n: 5 } });
  });

  it('load Ajv at the first request that validates, not when the server starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-lazy-schemas-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'probe.ts');
    const from = (path: string) => JSON.stringify(pathToFileURL(join(root, path)).href);
    writeFileSync(script, `
import { createRequire } from 'node:module';
import Fastify from ${from('node_modules/fastify/fastify.js')};
import { lazySchemaController } from ${from('src/app/lazy-schema-compilers.ts')};
const ajvLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/ajv/'));
const app = Fastify({ schemaController: lazySchemaController });
app.post('/x', { schema: { body: { type: 'object', required: ['a'] } } }, async () => 'ok');
await app.ready();
const atStart = ajvLoaded();
const refused = (await app.inject({ method: 'POST', url: '/x', payload: {} })).statusCode;
console.log(JSON.stringify({ atStart, refused, afterFirstRequest: ajvLoaded() }));
`);
    const result = JSON.parse(execFileSync(join(root, 'node_modules/.bin/node'), [script], { encoding: 'utf8' }));
    assert.deepEqual(result, { atStart: false, refused: 400, afterFirstRequest: true });
  });
});
