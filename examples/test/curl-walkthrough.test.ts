import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ProxyClient } from 'proxy-client';
import type { SlowTarget } from 'slow-target';
import { freePort } from 'test-support';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { proxyFor, runWalkthrough, startSlowTarget } from './support/example-environment.js';
import { describeRun } from './support/run-process.js';

const STEPS = [
  'GET / describes the service',
  'POST /api/function1: a JSON job is accepted at once with 202 and a task id',
  'A full queue answers 503 queue_full with Retry-After and creates no task',
];

let target: SlowTarget;
beforeAll(async () => {
  target = await startSlowTarget();
});
afterAll(async () => {
  await target?.close();
});

it('passes every step against the real proxy', async () => {
  // A small queue keeps the last step (filling it) quick.
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10']);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  for (const step of STEPS) expect(result.stdout).toContain(`== ${step}`);
  expect(result.stdout).toContain('every step passed');
  expect(result.stdout).not.toContain('With --api-key');
});

it('passes on a proxy that already holds a cancelled task, as after the cancel example', async () => {
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10']);
  const client = new ProxyClient({ baseUrl: PROXY_URL });
  const id = await client.submitTask('api/long?seconds=30', undefined, { method: 'GET' });
  await client.cancelTask(id);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  expect(result.stdout).toContain('every step passed');
});

/** A PATH whose curl pauses before each queue-filling submission, as on a busy machine. */
function pathWithSlowFillCurl(pauseSeconds: number): string {
  const realCurl = execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'slow-curl-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = join(dir, 'curl');
  writeFileSync(
    wrapper,
    `#!/bin/sh\ncase "$*" in *'"job": "fill"'*) sleep ${pauseSeconds} ;; esac\nexec '${realCurl}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return `${dir}${delimiter}${process.env.PATH ?? ''}`;
}

// Its fill jobs took 2 s: a caller slower than the workers drained them (a busy machine, or the
// default queue of 100) never saw the 503 and failed with "no 503 after N tasks".
it('fills the queue however slowly it submits, and cancels the tasks it filled it with', async () => {
  // A submission every half second at most, against ten slots: 2 s jobs would never queue.
  const PROXY_URL = await proxyFor(target, [
    '--max-queue-size',
    '1',
    '--num-workers',
    '10',
    '--max-concurrent',
    '10',
  ]);
  const result = await runWalkthrough({ PROXY_URL, PATH: pathWithSlowFillCurl(0.5) });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  expect(result.stdout).toContain('every step passed');
  const stats = await new ProxyClient({ baseUrl: PROXY_URL }).getStats();
  expect(stats.tasks.pending + stats.tasks.processing).toBe(0);
});

it('checks authentication when PROXY_API_KEY is set', async () => {
  const PROXY_URL = await proxyFor(target, ['--max-queue-size', '10', '--api-key', 'walk-key']);
  const result = await runWalkthrough({ PROXY_URL, PROXY_API_KEY: 'walk-key' });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(0);
  expect(result.stdout).toContain('== With --api-key: a request without the key gets 401');
});

it('names the step and exits 1 on the first surprise', async () => {
  // A proxy that wants a key the walkthrough does not send: the first step gets 401.
  const PROXY_URL = await proxyFor(target, ['--api-key', 'walk-key']);
  const result = await runWalkthrough({ PROXY_URL });
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    'curl-walkthrough: FAILED at step "GET / describes the service": expected HTTP 200, got 401\n' +
      "  set PROXY_API_KEY to the proxy's --api-key\n",
  );
});

// Newcomer pass: the walkthrough met the settings the TypeScript examples refuse (exit 2) with a
// curl error and exit 1, sent its first read to /api/ as a task when PROXY_URL ended in /api, and
// said nothing of what to do with no proxy there or a key missing.
describe('a setting the walkthrough cannot use: exit 2 before any request, naming it', () => {
  it.each([
    [
      'not a url',
      'PROXY_URL "not a url": not an http:// or https:// URL',
      "set it to the proxy's base URL, e.g. http://localhost:8080",
    ],
    [
      'ftp://127.0.0.1:1',
      'PROXY_URL "ftp://127.0.0.1:1": not an http:// or https:// URL',
      "set it to the proxy's base URL, e.g. http://localhost:8080",
    ],
    [
      'http://127.0.0.1:1/api/',
      'PROXY_URL "http://127.0.0.1:1/api": it ends in /api, where the proxy takes tasks for the target',
      "set it to the proxy's base URL: http://127.0.0.1:1",
    ],
  ])('PROXY_URL=%s', async (url, problem, remedy) => {
    const result = await runWalkthrough({ PROXY_URL: url });
    expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(2);
    expect(result.stderr).toBe(`curl-walkthrough: ${problem}\n  ${remedy}\n`);
    expect(result.stdout).toBe('');
  });

  it('PROXY_API_KEY with a line break, not shown', async () => {
    const result = await runWalkthrough({
      PROXY_URL: 'http://127.0.0.1:1',
      PROXY_API_KEY: 'secret\nkey',
    });
    expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(2);
    expect(result.stderr).toBe(
      'curl-walkthrough: PROXY_API_KEY: it has a control character (a line break?), which no header ' +
        "can carry\n  set it to the proxy's --api-key, as it was given\n",
    );
  });
});

// Review: `HTTP://` was refused as "not an http:// or https:// URL", though curl takes it.
it.each(['http', 'HTTP'])('with no proxy there (%s://), says to start one', async (scheme) => {
  const url = `${scheme}://127.0.0.1:${await freePort()}`;
  const result = await runWalkthrough({ PROXY_URL: url });
  expect(result.code, describeRun('curl-walkthrough.sh', result)).toBe(1);
  expect(result.stderr).toContain(
    `curl-walkthrough: FAILED at step "GET / describes the service": curl could not reach ${url}/\n` +
      '  start a proxy first (docs/getting-started.md, steps 1 to 3), or set PROXY_URL to yours\n',
  );
});
