import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { AppError } from '../../src/core/errors.ts';
import { installErrorHandling } from '../../src/web/error-handler.ts';
import { errorPage } from '../../src/web/pages/error-page.ts';

describe('error pages', () => {
  it('titles a 410 page by what happened, not just "Error"', async () => {
    const app = Fastify();
    installErrorHandling(app, errorPage(() => 'latchkey'));
    app.get('/setup', () => { throw new AppError('setup_closed', 410, 'Setup is already complete.'); });
    const response = await app.inject({ url: '/setup', headers: { accept: 'text/html' } });
    assert.equal(response.statusCode, 410);
    assert.match(response.body, /<title>This link can no longer be used · latchkey<\/title>/);
    assert.match(response.body, /<h1>This link can no longer be used<\/h1>/);
    await app.close();
  });
});
