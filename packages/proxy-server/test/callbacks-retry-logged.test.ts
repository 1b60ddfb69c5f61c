import { createServer } from 'node:http';
import type { DataBody, SubmitBody, Task } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { callbacksOn, dispatcherAnswering, idOf } from './callbacks-harness.js';
import { jsonLogLines, serveForTest, startTarget } from './helper.js';

// An operator whose receiver was down saw nothing in the log until the callback was given up,
// up to an hour after its first failed delivery: a failure that would be retried was unsaid.

const MESSAGE = 'callback delivery will be retried';
const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;

describe('a failed callback delivery that will be retried', () => {
  it('is logged at info with how it went and when the next one is due', async () => {
    const { clock, infos, settled, warnings } = await callbacksOn(
      'sqlite',
      1,
      dispatcherAnswering([503, 200]).dispatcher,
      { maxAttempts: 3 },
    );
    clock.advance(0);
    await vi.waitFor(() => expect(infos).toHaveLength(1));
    expect(infos).toEqual([
      {
        fields: {
          taskId: idOf(0),
          // Without the query string, where the receiver's token travels.
          url: 'http://127.0.0.1:9/hook',
          attempt: 1,
          outcome: 'answered 503',
          // The first retry waits 1 s from the delivery's end, on the injected clock.
          nextAttemptAt: new Date(clock.now() + 1_000).toISOString(),
        },
        message: MESSAGE,
      },
    ]);
    clock.advance(1_000);
    await vi.waitFor(() => expect(settled).toEqual([true]));
    // The delivery that went through is not logged.
    expect(infos).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('is not logged for the last attempt, which the give-up line says', async () => {
    const { clock, infos, warnings } = await callbacksOn(
      'sqlite',
      1,
      dispatcherAnswering([500, 503]).dispatcher,
    );
    clock.advance(0);
    await vi.waitFor(() => expect(infos).toHaveLength(1));
    clock.advance(1_000);
    await vi.waitFor(() => expect(warnings).toHaveLength(1));
    expect(infos).toMatchObject([{ fields: { attempt: 1, outcome: 'answered 500' } }]);
    expect(warnings).toMatchObject([{ fields: { attempts: 2, lastOutcome: 'answered 503' } }]);
  });

  it('is not logged when a stop cut the delivery off: that is not the receiver failing', async () => {
    const answers = dispatcherAnswering(['hang']);
    const { callbacks, clock, infos } = await callbacksOn('sqlite', 1, answers.dispatcher);
    clock.advance(0);
    await vi.waitFor(() => expect(answers.requests()).toBe(1));
    await callbacks.stop(0);
    expect(infos).toEqual([]);
  });
});

describe('the proxy-server bin, whose callback receiver answers 503 and then 200', () => {
  it('logs the failed delivery once, with when the retry is due, and not the one that went through', async () => {
    let deliveries = 0;
    let release = () => {};
    // The second delivery is answered only once the test has read the task it was due by.
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const receiver = await serveForTest(
      createServer((request, response) => {
        deliveries++;
        request.resume();
        if (deliveries === 1) response.writeHead(503).end();
        else void released.then(() => response.end());
      }),
    );
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: [
        ...['--store', 'memory', '--target-url', target.url, '--log-format', 'json'],
        ...['--callback-allow', receiver, '--webhook-secret', SECRET],
      ],
    });
    onTestFinished(async () => {
      await proxy.stop('SIGKILL');
    });
    const submitted = (await (
      await fetch(`${proxy.url}/api/text?text=hi`, {
        method: 'POST',
        headers: { 'x-proxy-callback-url': `${receiver}/hook?token=s3cret` },
      })
    ).json()) as SubmitBody;
    const task = async () =>
      ((await (await fetch(`${proxy.url}/task/${submitted.task_id}`)).json()) as DataBody<Task>)
        .data;
    await waitFor(() => deliveries === 2, { what: 'the retry' });
    // Still as the failed delivery left it: pending, due when the log line said.
    const pending = (await task()).callback;
    expect(pending).toMatchObject({ state: 'pending', deliveries: [{ status_code: 503 }] });
    release();
    await waitFor(async () => (await task()).callback?.state === 'delivered', {
      what: 'the retry to be delivered',
    });
    expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const lines = jsonLogLines(proxy.output()).filter((line) =>
      String(line.msg).startsWith('callback'),
    );
    expect(lines, proxy.output()).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: MESSAGE,
      taskId: submitted.task_id,
      url: `${receiver}/hook`,
      attempt: 1,
      outcome: 'answered 503',
      nextAttemptAt: pending?.next_at,
    });
    expect(proxy.output()).not.toContain('s3cret');
  });
});
