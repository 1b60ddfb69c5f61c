import { mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorBody, HealthBody, SubmitBody, Task } from 'proxy-client/wire';
import { startSlowTarget } from 'slow-target';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it, onTestFinished } from 'vitest';

async function proxyOnOwnDataDir() {
  const target = await startSlowTarget();
  onTestFinished(() => target.close());
  const parent = await mkdtemp(join(tmpdir(), 'proxy-removed-'));
  onTestFinished(() => rm(parent, { recursive: true, force: true }));
  const dataDir = join(parent, 'data');
  const proxy = await spawnProxyServer({
    args: ['--target-url', target.url, '--data-dir', dataDir, '--log-level', 'warn'],
  });
  onTestFinished(async () => {
    await proxy.stop('SIGKILL');
  });
  const submit = () => fetch(`${proxy.url}/api/text?text=hi`, { method: 'POST' });
  const first = (await (await submit()).json()) as SubmitBody;
  await waitFor(async () => {
    const read = (await (await fetch(`${proxy.url}/task/${first.task_id}`)).json()) as {
      data: Task;
    };
    return read.data.status === 'completed';
  });
  return { proxy, dataDir, parent, submit };
}

// Hostile pass: with the data dir removed under a running proxy, it went on accepting tasks
// into the deleted file, `/health` said ok, and every one of them was gone at the next start.
describe('a data dir removed or moved while the proxy runs', () => {
  for (const [what, remove] of [
    ['removed', (dir: string) => rm(dir, { recursive: true, force: true })],
    ['moved away', (dir: string) => rename(dir, `${dir}-moved`)],
  ] as const) {
    it(`is noticed once ${what}: submissions get a 503 that names it, /health is degraded`, async () => {
      const { proxy, dataDir, submit } = await proxyOnOwnDataDir();
      await remove(dataDir);

      const refused = await submit();
      expect(refused.status).toBe(503);
      // It will not come back by itself: no Retry-After for clients to honour for ever.
      expect(refused.headers.get('retry-after')).toBeNull();
      const body = (await refused.json()) as ErrorBody;
      expect(body.error).toBe('store_unavailable');
      expect(body.message).toContain(join(dataDir, 'tasks.db'));
      expect(body.message).toContain('removed or replaced while the proxy ran');

      const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
      expect(health.status).toBe('degraded');
      expect(health.store).toMatchObject({ available: false });
      expect(health.store.message).toContain('removed or replaced while the proxy ran');
    });
  }
});

// Operator pass: with no submission coming, an idle proxy whose data dir (or only its lock) was
// removed said `available: true` in /health for as long as it stayed idle: the files were looked
// at by commits alone.
describe('an idle proxy whose files were removed', () => {
  for (const [what, remove] of [
    ['the data dir', (dir: string) => rm(dir, { recursive: true, force: true })],
    ['the lock', (dir: string) => unlink(join(dir, 'proxy-server.lock'))],
  ] as const) {
    it(`says so in /health, before any submission: ${what}`, async () => {
      const { proxy, dataDir } = await proxyOnOwnDataDir();
      await remove(dataDir);

      const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
      expect(health.status).toBe('degraded');
      expect(health.store).toMatchObject({ available: false });
      expect(health.store.message).toContain('removed or replaced while the proxy ran');
    });
  }
});

// SQLite operator pass: the log removed under a running proxy (a cleaner, a hand) went
// unnoticed and a crash lost every task taken since; the lock removed let a second proxy start on
// the same data dir and run its tasks again.
describe('a companion file of the database removed while the proxy runs', () => {
  it('the log: refused within a second, and a stop by SIGTERM keeps what it held', async () => {
    const { proxy, dataDir, submit } = await proxyOnOwnDataDir();
    await unlink(join(dataDir, 'tasks.db-wal'));
    // The log is looked at once a second: what is taken before goes into the copy held open.
    const taken: string[] = [];
    let refused: Response | undefined;
    await waitFor(async () => {
      const answer = await submit();
      if (answer.status === 202) taken.push(((await answer.json()) as SubmitBody).task_id);
      else refused = answer;
      return refused !== undefined;
    });
    expect(refused?.status).toBe(503);
    const body = (await refused?.json()) as ErrorBody;
    expect(body.message).toContain(`${join(dataDir, 'tasks.db-wal')} was removed or replaced`);
    expect(body.message).toContain('SIGTERM');
    await expectRefusedFromNowOn(proxy, submit);
    // Exit 1 (the store was unavailable), after its close wrote the log into the database.
    expect((await proxy.stop('SIGTERM')).signal).toBeNull();

    const target = await startSlowTarget();
    onTestFinished(() => target.close());
    const again = await spawnProxyServer({
      args: ['--target-url', target.url, '--data-dir', dataDir, '--log-level', 'warn'],
    });
    onTestFinished(async () => {
      await again.stop('SIGKILL');
    });
    for (const id of taken) expect((await fetch(`${again.url}/task/${id}`)).status).toBe(200);
  });

  it('the lock: refused, naming what a second proxy could do', async () => {
    const { proxy, dataDir, submit } = await proxyOnOwnDataDir();
    await unlink(join(dataDir, 'proxy-server.lock'));
    let refused: Response | undefined;
    await waitFor(async () => {
      const answer = await submit();
      if (answer.status !== 202) refused = answer;
      return refused !== undefined;
    });
    expect(refused?.status).toBe(503);
    const body = (await refused?.json()) as ErrorBody;
    expect(body.message).toContain(`${join(dataDir, 'proxy-server.lock')} was removed or replaced`);
    await expectRefusedFromNowOn(proxy, submit);
  });
});

/** The refusal lasts: the commits between two looks at the file are refused too (review). */
async function expectRefusedFromNowOn(proxy: { url: string }, submit: () => Promise<Response>) {
  const answers: number[] = [];
  for (let n = 0; n < 20; n++) answers.push((await submit()).status);
  expect(answers.filter((status) => status !== 503)).toEqual([]);
  const health = (await (await fetch(`${proxy.url}/health`)).json()) as HealthBody;
  expect(health.store).toMatchObject({ available: false });
}
