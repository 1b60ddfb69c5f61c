import { waitFor } from 'test-support';
import { describe, expect, it } from 'vitest';
import {
  holdingGateForTest,
  instanceLauncher,
  redisForTest,
  statsOf,
  submitAll,
  targetForTest,
} from './instances.js';

const CAP = 2;

describe('the start line of an instance joining a shared queue', () => {
  it('names the calls still processing under a lease, a dead instance’s among them', {
    timeout: 90_000,
  }, async () => {
    const redis = await redisForTest();
    const target = await targetForTest();
    const gate = await holdingGateForTest(target);
    const launch = instanceLauncher(redis, gate, { cap: CAP });
    const victim = await launch();
    await submitAll([victim], [0, CAP], 10, { query: '&hold=1' });
    await waitFor(async () => gate.held() === CAP && (await statsOf(victim)).in_flight === CAP, {
      timeoutMs: 30_000,
      what: 'the first instance to hold every slot',
    });
    await victim.stop('SIGKILL');
    // Started before the dead instance's leases run out: its calls are not recovered yet, and
    // the line must not say that nothing was left processing.
    const joining = await launch();
    expect(joining.output()).toContain(
      `left processing by the last run: 0 requeued, 0 interrupted; ${CAP} still processing under a lease`,
    );
  });
});
