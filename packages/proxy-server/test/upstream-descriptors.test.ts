import { MockAgent } from 'undici';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type Clock, systemClock } from '../src/clock.js';
import { UpstreamClient } from '../src/upstream/upstream-client.js';
import { FakeClock } from './engine/harness.js';

const ORIGIN = 'http://target.test';

/** What undici reports when the process has no descriptor left for a socket. */
const emfile = () =>
  Object.assign(new Error(`connect EMFILE ${ORIGIN} - Local (undefined:undefined)`), {
    code: 'EMFILE',
  });

/** A client whose target fails `failures` connects with EMFILE (every one for Infinity). */
function clientWith<C extends Clock = FakeClock>(
  failures: number,
  timeoutMs: number | null = null,
  clock: C = new FakeClock() as Clock as C,
) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  onTestFinished(() => agent.close());
  const target = agent.get(ORIGIN);
  if (failures === Infinity) target.intercept({ path: '/job' }).replyWithError(emfile()).persist();
  else if (failures > 0)
    target.intercept({ path: '/job' }).replyWithError(emfile()).times(failures);
  const answer = target.intercept({ path: '/job' }).reply(200, 'done');
  // Slower than the timeout, when there is one.
  if (timeoutMs !== null) answer.delay(2 * timeoutMs);
  let dispatched = 0;
  const counted = agent.compose((dispatch) => (options, handler) => {
    dispatched++;
    return dispatch(options, handler);
  });
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
    counted,
  );
  const request = { method: 'GET', path: '/job', rawHeaders: [], body: null };
  return { client, clock, onOutOfDescriptors, request, dispatched: () => dispatched };
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

  it('ends interrupted when a stop comes while it waits, opening no connection to drop', async () => {
    const { client, onOutOfDescriptors, request, dispatched } = clientWith(Infinity);
    const stop = new AbortController();
    const outcome = client.send(request, stop.signal);
    await vi.waitFor(() => expect(onOutOfDescriptors).toHaveBeenCalledTimes(1));
    stop.abort();
    expect(await outcome).toMatchObject({ ok: false, error: { code: 'interrupted' } });
    expect(dispatched()).toBe(1);
  });
});

// Review: the wait made every call's timer the time left of its timeout, which a timeout's
// message then named: `--upstream-timeout 1` said "after 999.9992390000002 ms".
describe('a call that times out', () => {
  it('names the timeout it was given', async () => {
    const { client, request } = clientWith(0, 50, systemClock);
    expect(await client.send(request, new AbortController().signal)).toMatchObject({
      ok: false,
      error: { code: 'upstream_timeout', message: expect.stringMatching(/\(after 50 ms\)$/) },
    });
  });
});
