import { createServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { launchChromium } from '../../scripts/chromium.mjs';
import { rawRequest, serveForTest, stalledRequest, startProxy, startTarget } from '../helper.js';

// HTTP-input pass: a request whose line and headers pass Node's 16 KiB (or that the parser
// refuses otherwise) was answered before any header was read, so without Access-Control-Allow-
// Origin: a page saw "Failed to fetch", never the 400 saying its request was too large.

const OVERFLOW = `POST /api/x HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nX-Big: ${'x'.repeat(17 * 1024)}`;
const BAD_HEADER = 'POST /api/x HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nX Tenant: a';

describe('a request the HTTP parser refuses, with --cors-origin', () => {
  it.each([
    ['a list of origins', 'https://app.example,https://admin.example'],
    ['any origin', '*'],
  ])('%s: the 431 or 400 allows every origin to read it', async (_what, origins) => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', origins],
    });
    for (const [head, status] of [
      [OVERFLOW, 431],
      [BAD_HEADER, 400],
    ] as const) {
      const response = await rawRequest(proxy.url, head);
      expect(response.status).toBe(status);
      expect(response.head).toMatch(/^access-control-allow-origin: \*\r?$/im);
      expect(response.head).not.toMatch(/^access-control-allow-credentials:/im);
    }
  });

  it('headers that never end: the 408 allows every origin to read it', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', 'https://app.example', '--request-timeout', '0.3'],
    });
    const response = await stalledRequest(
      proxy.url,
      'POST /api/x HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n',
    );
    expect(response.status).toBe(408);
    expect(response.head).toMatch(/^access-control-allow-origin: \*\r?$/im);
  });

  it('without --cors-origin, the 431 has no Access-Control-* header', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const response = await rawRequest(proxy.url, OVERFLOW);
    expect(response.status).toBe(431);
    expect(response.head).not.toMatch(/^access-control-/im);
  });

  it('a page in Chromium reads the 431 of headers over 16 KiB', async () => {
    const pageServer = createServer((_request, response) => {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>app</title>');
    });
    const pageOrigin = await serveForTest(pageServer);
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', pageOrigin],
    });
    const browser = await launchChromium();
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    await page.goto(pageOrigin);
    const answer = await page.evaluate(async (url) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'x-big': 'x'.repeat(17 * 1024) },
        });
        return { status: response.status, body: await response.json() };
      } catch (error) {
        return { failed: String(error) };
      }
    }, `${proxy.url}/api/x`);
    expect(answer).toEqual({
      status: 431,
      body: {
        success: false,
        error: 'headers_too_large',
        message:
          'The request line and headers are over 16 KiB, the most Node reads: send shorter ones, or start the proxy with NODE_OPTIONS=--max-http-header-size=<bytes> to raise it (HPE_HEADER_OVERFLOW)',
      },
    });
  });
});
