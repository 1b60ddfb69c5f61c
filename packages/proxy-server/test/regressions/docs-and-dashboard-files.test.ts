import { describe, expect, it, onTestFinished } from 'vitest';
import { buildServer } from '../../src/index.js';
import { configFor } from '../helper.js';

// Hostile-user pass: /openapi.json and the reference page at /docs came without the nosniff
// that the dashboard's files and a replayed result carry, though all share the proxy's origin;
// /ui/index.html answered the dashboard's page, whose relative links then named /ui/ui/app.js.

async function proxyApp() {
  const app = buildServer(configFor('http://127.0.0.1:1'));
  onTestFinished(() => app.close());
  await app.ready();
  return app;
}

describe("the reference's and the dashboard's files", () => {
  // The docs audit: the page's own scripts and styles came without it.
  it.each([
    '/openapi.json',
    '/docs',
    '/docs/',
    '/docs/static/index.html',
    '/docs/json',
    '/docs/static/swagger-ui-bundle.js',
    '/docs/static/swagger-ui.css',
    '/docs/static/favicon-32x32.png',
  ])('%s is sent with nosniff', async (url) => {
    const app = await proxyApp();
    const response = await app.inject({ url });
    expect(response.statusCode).toBeLessThan(400);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  // The docs audit: it answered 405, "this route takes GET, HEAD", to a GET.
  it('a file the reference does not have is 404', async () => {
    const app = await proxyApp();
    const response = await app.inject({ url: '/docs/static/nonexistent.js' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'not_found' });
  });

  it("/ui/index.html sends the browser to /ui, where the page's links resolve", async () => {
    const app = await proxyApp();
    const response = await app.inject({ url: '/ui/index.html' });
    expect(response.statusCode).toBe(301);
    expect(response.headers.location).toBe('../ui');
  });
});
