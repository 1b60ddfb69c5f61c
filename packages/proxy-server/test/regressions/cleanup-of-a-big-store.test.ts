import { describe, expect, it, onTestFinished } from 'vitest';
import { admitMany } from '../engine/harness.js';
import { localFixture } from '../engine/local-fixture.js';

// Operator pass: `DELETE /tasks/cleanup` (or a retention sweep) over a big SQLite store removed
// every task it matched in one turn of the event loop and one transaction: with 512,000 finished
// tasks (2 GB) the proxy answered nothing, /health included, for 15 s, long enough for a load
// balancer to pull it. The local backend now removes them a batch at a time, each batch committed
// on its own, and other calls are served between batches.

const TASKS = 2_500;

describe.each(['sqlite', 'memory'] as const)('%s: removing many finished tasks', (kind) => {
  it('goes a batch at a time, serving other calls between batches', async () => {
    const fixture = await localFixture(kind);
    const { backend } = fixture.create({ concurrency: 1, maxQueueSize: TASKS, maxTasks: null });
    onTestFinished(async () => {
      await backend.close();
      await fixture.dispose();
    });
    await backend.open();
    const ids = await admitMany(backend, fixture.clock.now(), TASKS);
    for (const id of ids) await backend.cancel(id);
    const first = ids[0] as string;
    const last = ids[TASKS - 1] as string;

    const removal = backend.removeFinished(fixture.clock.now());
    // A read served while the removal is under way: the first to finish is gone, the last not yet.
    const [firstDuring, lastDuring] = await Promise.all([backend.get(first), backend.get(last)]);
    expect(firstDuring).toBeUndefined();
    expect(lastDuring).toMatchObject({ id: last, status: 'cancelled' });

    expect(await removal).toBe(TASKS);
    expect(await backend.get(last)).toBeUndefined();
    expect((await backend.counts()).total).toBe(0);
  });
});
