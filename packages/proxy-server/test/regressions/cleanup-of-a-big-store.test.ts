import { describe, expect, it, onTestFinished } from 'vitest';
import { admitMany, newTask } from '../engine/harness.js';
import { localFixture } from '../engine/local-fixture.js';

// Operator pass: `DELETE /tasks/cleanup` (or a retention sweep) over a big SQLite store removed
// every task it matched in one turn of the event loop and one transaction: with 512,000 finished
// tasks (2 GB) the proxy answered nothing, /health included, for 15 s, long enough for a load
// balancer to pull it. The local backend now removes them a batch at a time, each batch committed
// on its own, and other calls are served between batches. Likewise a restart with a lower
// --max-tasks: the first submission removed the whole excess at once (19 s for 511,000 tasks);
// each admission now removes at most a batch until the store is back under the cap.

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
    // A turn of the event loop (where an HTTP request is heard) comes between batches, not after
    // the last.
    const heldAtNextTurn = await new Promise<number>((resolve) => {
      setImmediate(() => resolve(backend.counts().then((counts) => counts.total)));
    });
    expect(heldAtNextTurn).toBeGreaterThan(0);
    // A read served while the removal is under way: the first to finish is gone, the last not yet.
    const [firstDuring, lastDuring] = await Promise.all([backend.get(first), backend.get(last)]);
    expect(firstDuring).toBeUndefined();
    expect(lastDuring).toMatchObject({ id: last, status: 'cancelled' });

    expect(await removal).toBe(TASKS);
    expect(await backend.get(last)).toBeUndefined();
    expect((await backend.counts()).total).toBe(0);
  });

  it('stops between batches when the backend closes, saying how many it removed', async () => {
    const fixture = await localFixture(kind);
    const { backend } = fixture.create({ concurrency: 1, maxQueueSize: TASKS, maxTasks: null });
    onTestFinished(() => fixture.dispose());
    await backend.open();
    const ids = await admitMany(backend, fixture.clock.now(), TASKS);
    for (const id of ids) await backend.cancel(id);

    const removal = backend.removeFinished(fixture.clock.now());
    const closed = backend.close();
    expect(await removal).toBe(1_000);
    await closed;
  });
});

describe('a restart with --max-tasks below the tasks held', () => {
  it('brings the store down a batch per admission, admitting each', async () => {
    const fixture = await localFixture('sqlite');
    onTestFinished(() => fixture.dispose());
    const before = fixture.create({ concurrency: 1, maxQueueSize: TASKS, maxTasks: null }).backend;
    await before.open();
    const ids = await admitMany(before, fixture.clock.now(), TASKS);
    for (const id of ids) await before.cancel(id);
    await before.close();

    const { backend } = fixture.create({ concurrency: 1, maxQueueSize: TASKS, maxTasks: 10 });
    onTestFinished(() => backend.close());
    await backend.open();
    const admission = backend.admit(newTask(fixture.clock.now()));
    // The first batch went with it; the tasks after it wait for the next admissions.
    const [firstDuring, laterDuring] = await Promise.all([
      backend.get(ids[0] as string),
      backend.get(ids[1_500] as string),
    ]);
    expect(firstDuring).toBeUndefined();
    expect(laterDuring).toMatchObject({ status: 'cancelled' });
    expect(await admission).toMatchObject({ ok: true });

    expect((await admitMany(backend, fixture.clock.now(), 2)).length).toBe(2);
    expect((await backend.counts()).total).toBe(10);
  });
});
