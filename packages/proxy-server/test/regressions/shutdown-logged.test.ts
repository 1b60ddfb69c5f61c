import type { SubmitBody } from 'proxy-client/wire';
import { spawnProxyServer, waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import { jsonLogLines, startTarget } from '../helper.js';

describe('a stop in the log', () => {
  // The `shutting down` line went to Fastify's logger, which is off at info (the default): the
  // log showed a long call `interrupted` with no word of the signal or the grace before it.
  it('logs the signal and the grace at the default level, before the calls it cuts off', async () => {
    const target = await startTarget();
    const proxy = await spawnProxyServer({
      args: ['--target-url', target.url, '--shutdown-grace', '0.2', '--log-format', 'json'],
    });
    const submitted = (await (
      await fetch(`${proxy.url}/api/long?seconds=30`, { method: 'POST' })
    ).json()) as SubmitBody;
    await waitFor(() => target.stats().inFlight === 1, { what: 'the call to start' });
    expect(await proxy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const lines = jsonLogLines(proxy.output());
    const stop = lines.findIndex((line) => line.msg === 'shutting down');
    const failed = lines.findIndex(
      (line) => line.msg === 'task failed' && line.taskId === submitted.task_id,
    );
    expect(lines[stop]).toMatchObject({ level: 30, signal: 'SIGTERM', graceMs: 200 });
    expect(failed).toBeGreaterThan(stop);
    // After them, one line saying how the stop went.
    const summary = lines.findIndex((line) => String(line.msg).startsWith('stopped:'));
    expect(lines[summary]).toMatchObject({
      level: 30,
      msg: 'stopped: 0 calls ended within the grace, 1 call cut off (1 ended interrupted)',
      ended: 0,
      interrupted: 1,
      requeued: 0,
    });
    expect(summary).toBeGreaterThan(failed);
  });
});
