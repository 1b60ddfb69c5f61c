import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { launchChromium } from '../scripts/chromium.mjs';
import { startProxy, startTarget } from './helper.js';

// The built SDK (proxy-client's dist, as a front-end app imports it) in a real browser, on a page
// served from another origin than the proxy's. Needs `pnpm build` first.

const SDK_ENTRY = join(
  realpathSync(fileURLToPath(new URL('../node_modules/proxy-client', import.meta.url))),
  'dist',
  'index.js',
);

/**
 * The SDK as a front-end app's bundler ships it: one ES module for the browser, which the page
 * loads in one request rather than one per module of TypeBox's hundreds. A Node built-in among
 * the SDK's imports fails this build, as it would fail a browser app's.
 */
async function bundleSdk(): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [SDK_ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
  });
  const [bundle] = outputFiles;
  if (bundle === undefined) throw new Error(`esbuild wrote no bundle of ${SDK_ENTRY}`);
  return bundle.text;
}

// The page hands the SDK to the tests as `sdk`: a dynamic import() in page.evaluate would be
// rewritten by vitest's transform.
const PAGE = `<!doctype html>
<script type="module">import * as sdk from '/sdk.js'; globalThis.sdk = sdk;</script><title>app</title>`;

declare global {
  // The page's copy of the SDK, as a front-end app imports it.
  var sdk: typeof import('proxy-client');
}

let browser: Browser;
let appOrigin: string;
let closeApp: () => void;

beforeAll(async () => {
  const files = new Map([
    ['/', { type: 'text/html', body: PAGE }],
    ['/sdk.js', { type: 'text/javascript', body: await bundleSdk() }],
  ]);
  const app = createServer((request, response) => {
    const file = files.get(new URL(request.url ?? '/', 'http://app').pathname);
    response.statusCode = file === undefined ? 404 : 200;
    if (file !== undefined) response.setHeader('content-type', file.type);
    response.end(file?.body);
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  closeApp = () => app.close();
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  closeApp?.();
});

/** The app's page; open it after starting the proxy, so that it is closed first. */
async function openApp(): Promise<Page> {
  const context = await browser.newContext();
  onTestFinished(() => context.close());
  const page = await context.newPage();
  await page.goto(appOrigin);
  await page.waitForFunction(() => globalThis.sdk !== undefined);
  return page;
}

/** What slow-target's /api/echo answers: the request as the proxy forwarded it. */
interface Echo {
  headers: Record<string, string>;
  body_base64: string;
}

/** What a failed SDK call rejected with, as the page sees it. */
interface Rejection {
  name: string;
  code?: string;
  message: string;
  mayHaveArrived?: boolean;
}

describe('the SDK in a browser, on another origin than the proxy', () => {
  it('does what docs/sdk.md shows: submit, wait, watch, cancel, retry, list, stats, bodies', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', appOrigin],
    });
    const page = await openApp();
    const seen = await page.evaluate(async (baseUrl) => {
      const { ProxyClient } = globalThis.sdk;
      const client = new ProxyClient({ baseUrl });
      const id = await client.submitTask('api/function1', { a: 1 });
      const waited = await client.waitForTask(id);
      const both = await client.submitAndWait(
        'api/echo',
        new Blob(['blob bytes'], { type: 'text/plain' }),
      );
      const form = new FormData();
      form.append('field', 'value');
      const formTask = await client.submitAndWait('api/echo', form);
      const statuses: string[] = [];
      for await (const task of client.watchTask(
        await client.submitTask('api/function1?delay_ms=200'),
      )) {
        statuses.push(task.status);
      }
      const long = await client.submitTask('api/long?seconds=60');
      const cancelled = await client.cancelTask(long);
      const failed = await client.submitAndWait('api/fail?status=500');
      const again = await client.retryTask(failed.task_id);
      const aborted = new AbortController();
      const waiting = client.waitForTask(again.taskId, { signal: aborted.signal });
      aborted.abort(new Error('the user gave up'));
      return {
        waited: waited.status,
        blob: atob((both.result as { body: Echo }).body.body_base64),
        form: (formTask.result as { body: Echo }).body.headers['content-type'],
        statuses,
        cancelled: cancelled.status,
        retried: again.taskId !== failed.task_id,
        abort: await waiting.then(
          () => 'finished',
          (error: Error) => error.message,
        ),
        listed: (await client.listTasks()).tasks.length,
        stats: typeof (await client.getStats()).queue_size,
        notFound: await client.getTask(crypto.randomUUID()).catch((error: Error) => error.name),
      };
    }, proxy.url);
    expect(seen).toEqual({
      waited: 'completed',
      blob: 'blob bytes',
      form: expect.stringMatching(/^multipart\/form-data; boundary=/),
      statuses: expect.arrayContaining(['completed']),
      cancelled: 'cancelled',
      retried: true,
      abort: 'the user gave up',
      listed: 7,
      stats: 'number',
      notFound: 'TaskNotFoundError',
    });
  });

  it('says a ReadableStream body cannot go to an http: proxy, not that the proxy is away or the task perhaps made', async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, {
      listen: true,
      flags: ['--cors-origin', appOrigin],
    });
    const page = await openApp();
    const rejection = await page.evaluate(async (baseUrl): Promise<Rejection> => {
      const { ProxyClient } = globalThis.sdk;
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      // Retries on (the default): none of them may send it either.
      const error = await new ProxyClient({ baseUrl }).submitTask('api/echo', body).then(
        (): Rejection => ({ name: 'none', message: 'the call did not fail' }),
        (thrown: Rejection) => thrown,
      );
      const { name, code, message, mayHaveArrived } = error;
      return { name, message, ...(code === undefined ? {} : { code }), mayHaveArrived };
    }, proxy.url);
    expect(rejection).toMatchObject({
      name: 'ProxyUnreachableError',
      code: 'unreachable',
      mayHaveArrived: false,
    });
    expect(rejection.message).toContain('HTTP/2');
    expect(rejection.message).toContain('send a Blob');
    expect(rejection.message).not.toContain('may have been created');
    expect(rejection.message).not.toContain('--cors-origin');
    expect((await proxy.app.inject('/tasks')).json().data.total).toBe(0);
  });

  it("says a proxy refuses this page's origin, and whether the submission reached it", async () => {
    const target = await startTarget();
    const proxy = await startProxy(target.url, { listen: true });
    const page = await openApp();
    const [preflighted, simple] = await page.evaluate(async (baseUrl): Promise<Rejection[]> => {
      const { ProxyClient } = globalThis.sdk;
      const client = new ProxyClient({ baseUrl });
      const NONE: Rejection = { name: 'none', message: 'the call did not fail' };
      const seen = (error: {
        name: string;
        code?: string;
        message: string;
        mayHaveArrived?: boolean;
      }) => ({
        name: error.name,
        code: error.code,
        message: error.message,
        mayHaveArrived: error.mayHaveArrived,
      });
      return [
        // JSON, with the SDK's idempotency key: the browser asks first, and the proxy says no.
        await client.submitTask('api/function1', { a: 1 }).then(() => NONE, seen),
        // Plain text with no header of the SDK's: sent without asking, only its answer hidden.
        await client.submitTask('api/function1', 'plain', { maxRetries: 0 }).then(() => NONE, seen),
      ];
    }, proxy.url);
    for (const rejection of [preflighted, simple]) {
      expect(rejection).toMatchObject({ name: 'ProxyUnreachableError', code: 'unreachable' });
      expect(rejection?.message).toContain(`not to this page's origin (${appOrigin})`);
      expect(rejection?.message).toContain('--cors-origin');
    }
    expect(preflighted?.mayHaveArrived).toBe(false);
    expect(preflighted?.message).not.toContain('may have been created');
    expect(simple?.mayHaveArrived).toBe(true);
    expect(simple?.message).toContain('the task was probably created');
    const tasks = (await proxy.app.inject('/tasks')).json().data.tasks as { path: string }[];
    expect(tasks.map((task) => task.path)).toEqual(['/api/function1']);
  });
});
