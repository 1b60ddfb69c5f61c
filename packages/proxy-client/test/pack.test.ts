import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as users get it: `npm pack`, installed into an empty folder outside the workspace
 * (ky comes from the registry), then used from plain Node through `import` and `require`, and
 * type-checked under every module resolution a user may have. Tests the built dist: `pnpm build` first.
 */
const run = promisify(execFile);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let workDir: string;
let appDir: string;
let tarball: string;
let proxyUrl: string;
let server: Server;

beforeAll(async () => {
  for (const file of [
    'index.js',
    'index.cjs',
    'index.d.ts',
    'index.d.cts',
    'wire.js',
    'wire.cjs',
  ]) {
    if (!existsSync(join(packageDir, 'dist', file))) {
      throw new Error(`dist/${file} is missing: run \`pnpm --filter proxy-client build\` first`);
    }
  }
  workDir = await mkdtemp(join(tmpdir(), 'proxy-client-pack-'));
  appDir = join(workDir, 'app');
  await mkdir(appDir);
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
    cwd: packageDir,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  tarball = join(workDir, packed!.filename);
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: appDir });
  server = await startFakeProxy();
  proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Just enough of a proxy for the installed SDK to talk to. */
function startFakeProxy(): Promise<Server> {
  const proxy = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/stats') {
      response.end(JSON.stringify({ success: true, data: { queue_size: 7 } }));
    } else {
      response.statusCode = 503;
      response.setHeader('retry-after', '4');
      response.end(JSON.stringify({ success: false, error: 'queue_full', message: 'full' }));
    }
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve(proxy)));
}

async function node(args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, args, { cwd: appDir });
  return JSON.parse(stdout);
}

describe('the packed tarball, installed in an empty folder', () => {
  it('holds the build and the README, and depends on ky, eventsource-parser and TypeBox alone', async () => {
    const installed = join(appDir, 'node_modules', 'proxy-client');
    expect((await readdir(installed)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'dist',
      'package.json',
      'wire',
    ]);
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      'eventsource-parser',
      'ky',
      'typebox',
    ]);
    expect(manifest).toMatchObject({
      license: 'MIT',
      repository: { type: 'git', directory: 'packages/proxy-client' },
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: expect.stringMatching(/^https:\/\//),
    });
    expect(await readdir(join(appDir, 'node_modules'))).toEqual(
      expect.arrayContaining(['eventsource-parser', 'ky', 'proxy-client']),
    );
  });

  const script = (load: string) => `
    ${load}
    const client = new sdk.ProxyClient({ baseUrl: ${JSON.stringify('URL')} });
    Promise.all([client.getStats(), client.submitTask('x', {}).catch((e) => e)]).then(([stats, error]) =>
      console.log(JSON.stringify({
        queueSize: stats.queue_size,
        error: [error.name, error.retryAfterMs, sdk.isQueueFullError(error)],
        statuses: wire.TASK_STATUSES,
      })));`;
  const expected = {
    queueSize: 7,
    error: ['QueueFullError', 4000, true],
    statuses: ['pending', 'processing', 'completed', 'failed', 'cancelled', 'expired'],
  };

  it('works through import(), with the proxy-client/wire subpath', async () => {
    const load = `const sdk = await import('proxy-client'); const wire = await import('proxy-client/wire');`;
    const source = script(load).replace('"URL"', JSON.stringify(proxyUrl));
    expect(await node(['--input-type=module', '-e', source])).toEqual(expected);
  });

  it('works through require(), with the proxy-client/wire subpath (ky bundled in)', async () => {
    const load = `const sdk = require('proxy-client'); const wire = require('proxy-client/wire');`;
    const source = script(load).replace('"URL"', JSON.stringify(proxyUrl));
    expect(await node(['--input-type=commonjs', '-e', source])).toEqual(expected);
  });

  it('guards of one build recognise errors thrown by the other', async () => {
    const source = `
      import { createRequire } from 'node:module';
      const esm = await import('proxy-client');
      const cjs = createRequire(process.cwd() + '/')('proxy-client');
      const error = await new cjs.ProxyClient({ baseUrl: ${JSON.stringify(proxyUrl)} })
        .submitTask('x').catch((e) => e);
      console.log(JSON.stringify([esm.ProxyClient !== cjs.ProxyClient,
        error instanceof esm.QueueFullError, esm.isQueueFullError(error), esm.isProxyError(error)]));`;
    expect(await node(['--input-type=module', '-e', source])).toEqual([true, false, true, true]);
  });

  const uses = `
      const hooks: Hooks = { beforeRequest: [(request) => void request.headers.set('x-a', '1')] };
      const client = new ProxyClient({ baseUrl: 'http://localhost:8080', hooks });
      const options: WaitOptions = { timeoutMs: 1000, onStatus: (task: Task) => void task.status };
      export async function use(): Promise<Stats> {
        const task = await client.waitForTask(await client.submitTask('f', { a: 1 }), options);
        if (isQueueFullError(task)) throw task;
        const code: ProxyErrorCode = 'queue_full';
        void [TASK_STATUSES, code];
        return client.getStats({ timeoutMs: 500, headers: { 'x-b': '2' }, maxRetries: 0 });
      }
      export async function control(): Promise<string> {
        const submission: Submission = await client.submit('f', {}, { idempotencyKey: 'k', waitMs: 1000, priority: 'high' });
        for await (const task of client.watchTask(submission.taskId)) void task.status;
        for await (const event of client.watchEvents({ status: ['failed'] })) if (event.type !== 'reset') void event.task.task_id;
        const result: RawResult = await client.getResult(submission.taskId, { waitMs: 5000 });
        await client.cancelTask(submission.taskId).catch((error) => isTaskFinishedError(error));
        return result.text() + (await client.retryTask(submission.taskId)).taskId;
      }
      // @ts-expect-error wrong option type must be caught, proving the types are not any
      new ProxyClient({ baseUrl: 1 });
      // The wire types are derived from TypeBox schemas; they must be exact, not any.
      // @ts-expect-error not a task status
      export const status: Task['status'] = 'paused';
      // @ts-expect-error queue_size is a number
      export const stats: Pick<Stats, 'queue_size'> = { queue_size: '7' };`;
  const forwarded = `
      declare const given: { signal?: AbortSignal; ms?: number; key?: string; status?: Task['status'] };
      export const client2 = new ProxyClient({ baseUrl: 'http://localhost:8080', apiKey: given.key,
        timeoutMs: given.ms, headers: undefined, maxRetries: given.ms, fetch: undefined,
        hooks: { beforeRequest: undefined } });
      export async function forward(id: string): Promise<unknown> {
        const { signal, ms: timeoutMs, key: idempotencyKey, status } = given;
        await client2.submitTask('f', {}, { signal, timeoutMs, idempotencyKey, waitMs: given.ms,
          priority: undefined, callbackUrl: given.key, method: given.key, query: undefined });
        await client2.waitForTask(id, { signal, timeoutMs, pollIntervalMs: given.ms,
          onStatus: undefined, onOutage: undefined, throwOnFailure: undefined });
        for await (const task of client2.watchTask(id, { signal })) void task;
        for await (const event of client2.watchEvents({ signal, status, lastEventId: given.key })) void event;
        for await (const task of client2.iterateTasks({ signal, status, pageSize: given.ms })) void task;
        await client2.retryTask(id, { signal, waitMs: given.ms, queueFullRetries: given.ms });
        await client2.getResult(id, { signal, waitMs: given.ms });
        await client2.cleanupTasks({ signal, maxAgeMs: given.ms });
        await client2.listTasks({ signal, status, limit: given.ms, offset: given.ms });
        return client2.run('f', undefined, { signal, timeoutMs, throwOnFailure: undefined });
      }`;
  const imports = `
      import { ProxyClient, isQueueFullError, isTaskFinishedError, type Hooks, type ProxyErrorCode, type RawResult, type Submission, type Task, type WaitOptions } from 'proxy-client';
      import { TASK_STATUSES, type Stats } from 'proxy-client/wire';`;
  // Each project as a user sets it up. skipLibCheck is on, as in most projects: off, tsc spends
  // half a minute checking TypeBox's own declarations. What skipLibCheck would hide in ours
  // (a .d.cts importing ESM-only types, TS1479) has a test of its own below.
  const projects: Record<
    string,
    {
      type?: string;
      files: Record<string, string>;
      compilerOptions: Record<string, string | boolean>;
    }
  > = {
    'NodeNext, from .mts and .cts': {
      files: { 'use.mts': imports + uses, 'use.cts': imports + uses },
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    },
    'node16 in a CommonJS project': {
      type: 'commonjs',
      files: { 'use.ts': imports + uses },
      compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    },
    'node10 (moduleResolution node)': {
      files: { 'use.ts': imports + uses },
      compilerOptions: {
        module: 'commonjs',
        moduleResolution: 'node10',
        ignoreDeprecations: '5.0',
      },
    },
    bundler: {
      files: { 'use.ts': imports + uses },
      compilerOptions: { module: 'esnext', moduleResolution: 'bundler' },
    },
    // Hostile pass: every option was `name?: T`, so under exactOptionalPropertyTypes a caller
    // could not pass on an option it may not have (`{ signal: options.signal }`), though the
    // SDK takes `undefined` for any option as left out.
    'exactOptionalPropertyTypes, passing on options that may be undefined': {
      files: { 'use.ts': imports + uses + forwarded },
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        exactOptionalPropertyTypes: true,
      },
    },
  };

  it.each(Object.entries(projects))('type-checks under %s', async (name, project) => {
    const dir = join(appDir, 'ts', name.replace(/\W+/g, '-'));
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'ts-app', private: true, type: project.type ?? 'module' }),
    );
    for (const [file, text] of Object.entries(project.files)) {
      await writeFile(join(dir, file), text);
    }
    const compilerOptions = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: 'es2022',
      lib: ['es2022', 'dom'],
      types: [],
      ...project.compilerOptions,
    };
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions, files: Object.keys(project.files) }),
    );
    const result = await run(process.execPath, [tsc, '-p', dir]).catch(
      (error: { stdout: string }) => error,
    );
    expect(result.stdout).toBe('');
  });

  it('has CommonJS declarations that load ESM-only TypeBox types as ES module types', async () => {
    // Without `resolution-mode`, a CommonJS project with skipLibCheck off gets TS1479 / TS1542.
    const dist = join(appDir, 'node_modules', 'proxy-client', 'dist');
    for (const file of ['index.d.cts', 'wire.d.cts']) {
      const imports = (await readFile(join(dist, file), 'utf8')).match(/^import .*'typebox'.*$/gm);
      if (file === 'wire.d.cts') expect(imports).not.toBeNull();
      for (const line of imports ?? []) {
        expect(line, file).toMatch(/^import type .* with \{ 'resolution-mode': 'import' \};$/);
      }
    }
  });

  it('passes publint, strict, on the very tarball', async () => {
    const bytes = await readFile(tarball);
    const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
    const { messages } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) },
      strict: true,
    });
    expect(messages.map((message) => formatMessage(message, manifest))).toEqual([]);
  });

  it('ships no Node-only import in the code a browser would load', async () => {
    for (const file of ['index.js', 'index.cjs', 'wire.js', 'wire.cjs']) {
      const code = await readFile(join(packageDir, 'dist', file), 'utf8');
      expect(code, file).not.toMatch(/\bfrom ['"]node:|require\(['"]node:|\bBuffer\b|\bprocess\./);
    }
  });
});
