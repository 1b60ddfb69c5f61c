import { describe, expect, it } from 'vitest';
import { BUSIEST_TENANTS, busiestTenants, type TenantLoad } from '../../src/engine/task-backend.js';

const loads = (count: number, spread: number): TenantLoad[] =>
  Array.from({ length: count }, (_, n) => ({
    tenant: `t${n}`,
    // Few distinct values, so that ties on both counts are common.
    queued: (n * 7919) % spread,
    inFlight: (n * 104_729) % 3,
  }));

describe('busiestTenants', () => {
  it.each([0, 1, BUSIEST_TENANTS, BUSIEST_TENANTS + 1, 5_000])(
    'picks what sorting %i tenants by queued, then in flight, stably, would',
    (count) => {
      const all = loads(count, 11);
      const sorted = [...all].sort((a, b) => b.queued - a.queued || b.inFlight - a.inFlight);
      expect(busiestTenants(all)).toEqual(sorted.slice(0, BUSIEST_TENANTS));
    },
  );

  it('reads its loads once, from any iterable', () => {
    function* once(): Generator<TenantLoad> {
      yield { tenant: 'quiet', queued: 0, inFlight: 1 };
      yield { tenant: 'busy', queued: 5, inFlight: 0 };
    }
    expect(busiestTenants(once()).map((load) => load.tenant)).toEqual(['busy', 'quiet']);
  });
});
