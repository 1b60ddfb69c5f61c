import { MockAgent } from 'undici';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { UpstreamClient } from '../src/upstream/upstream-client.js';
import { FakeClock } from './engine/harness.js';

const ORIGIN = 'http://target.test';

/** What undici reports when the process has no descriptor left for a socket. */
const emfile = () =>
  Object.assign(new Error(`connect EMFILE ${ORIGIN} - Local (undefined:undefined)`), {
    code: 'EMFILE',
  });

/** A client whose target fails `failures` connects with EMFILE (every one for Infinity). */
function clientWith(failures: number, timeoutMs: number | null = null) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  onTestFinished(() => agent.close());
  const target = agent.get(ORIGIN);
  if (failures === Infinity) target.intercept({ path: '/job' }).replyWithError(emfile()).persist();
  else if (failures > 0)
    target.intercept({ path: '/job' }).replyWithError(emfile()).times(failures);
  target.intercept({ path: '/job' }).reply(200, 'done');
  const clock = new FakeClock();
  const onOutOfDescriptors = vi.fn();
  const client = new UpstreamClient(
    {
      target: { origin: ORIGIN, basePath: '', url: ORIGIN },
      timeoutMs,
      resultSizeLimitBytes: 1024,
      maxInFlight: 1,
      dropAuthorization: false,
      clock,
      onOutOfDescriptors,
    },
    agent,
  );
  const request = { method: 'GET', path: '/job', rawHeaders: [], body: null };
  return { client, clock, onOutOfDescriptors, request };
}

// A helper ran 2,000 calls under a limit of 1,024 open files: 1,597 tasks failed at once with
// EMFILE, though none of their calls had gone out and descriptors freed as calls ended.
describe('a call that finds no file descriptor for its socket', () => {
  it('waits, pausing longer each time, and goes out once one frees', async () => {
    const { client, clock, onOutOfDescriptors, request } = clientWith(3);
    const outcome = client.send(request, new AbortController().signal);
    for (const [waits, pauseMs] of [
      [1, 50],
      [2, 100],
      [3, 200],
    ] as const) {
      await vi.waitFor(() => expect(onOutOfDescriptors).toHaveBeenCalledTimes(waits));
      clock.advance(pauseMs - 1);
      expect(onOutOfDescriptors).toHaveBeenCalledTimes(waits);
      clock.advance(1);
    }
    expect(await outcome).toMatchObject({ ok: true, statusCode: 200 });
  });

  it('waits no longer than its timeout, then fails naming the cause', async () => {
    const { client, clock, onOutOfDescriptors, request } = clientWith(Infinity, 120);
    const outcome = client.send(request, new AbortController().signal);
    await vi.waitFor(() => expect(onOutOfDescriptors).toHaveBeenCalledTimes(1));
    clock.advance(50);
    // 70 ms left, and the next pause is 100: the call gives up rather than time out blind.
    expect(await outcome).toMatchObject({
      ok: false,
      error: { code: 'upstream_error', message: expect.stringContaining('EMFILE') },
    });
  });

  it('ends interrupted when a stop comes while it waits', async () => {
    const { client, onOutOfDescriptors, request } = clientWith(Infinity);
    const stop = new AbortController();
    const outcome = client.send(request, stop.signal);
    await vi.waitFor(() => expect(onOutOfDescriptors).toHaveBeenCalledTimes(1));
    stop.abort();
    expect(await outcome).toMatchObject({ ok: false, error: { code: 'interrupted' } });
  });
});
