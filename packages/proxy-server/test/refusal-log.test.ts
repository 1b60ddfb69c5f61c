import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { REPEAT_QUIET_MS } from '../src/proxy/quiet-line.js';
import { refusalLog } from '../src/proxy/refusal-log.js';
import { FakeClock } from './engine/harness.js';

function setUp(maxTasks: number | null = null) {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const log = {
    warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
  } as unknown as FastifyBaseLogger;
  const clock = new FakeClock();
  const refused = refusalLog(log, clock, {
    maxQueueSize: 100,
    maxTasks,
    delivery: { tenantMaxQueued: 5 },
  });
  return { lines, clock, refused };
}

// Seed-card pass: a proxy refusing submissions for a full queue said nothing in its log, where
// the card's operator looks first to know that --max-queue-size wants raising.
describe('refusalLog', () => {
  // Redis pass: a spell's refusals were written only at the next refusal past it, an outage
  // later, so the first line of the next outage counted the last one's.
  it('warns at the first refusal for room, then once a quiet spell while they go on, with that spell’s', () => {
    const { lines, clock, refused } = setUp();
    for (let i = 0; i < 5; i++) refused('queue_full');
    expect(lines).toEqual([
      {
        fields: { refused: 1 },
        message:
          'submissions refused with 503 queue_full: the queue holds its most (--max-queue-size 100); callers are told to retry later, raise it if they should wait in line instead',
      },
    ]);
    clock.advance(REPEAT_QUIET_MS - 1);
    refused('queue_full');
    expect(lines).toHaveLength(1);
    clock.advance(1);
    expect(lines.map((line) => line.fields)).toEqual([{ refused: 1 }, { refused: 5 }]);
    refused('queue_full');
    clock.advance(REPEAT_QUIET_MS);
    // A spell with none ends the quiet: the next refusal is written at once.
    clock.advance(REPEAT_QUIET_MS);
    refused('queue_full');
    expect(lines.map((line) => line.fields)).toEqual([
      { refused: 1 },
      { refused: 5 },
      { refused: 1 },
      { refused: 1 },
    ]);
  });

  it('says a store at --max-tasks and a tenant’s share on lines of their own', () => {
    const { lines, refused } = setUp(1000);
    refused('queue_full');
    refused('tasks_full');
    refused('tenant_queue_full');
    refused('tenant_queue_full');
    expect(lines.map((line) => line.message)).toEqual([
      'submissions refused with 503 queue_full: the queue holds its most (--max-queue-size 100); callers are told to retry later, raise it if they should wait in line instead',
      'submissions refused with 503 queue_full: the proxy holds its most tasks (--max-tasks 1000) and too few have finished to make room; raise it, or keep fewer tasks waiting',
      'submissions refused with 503 tenant_queue_full: a tenant holds its most queued tasks (--tenant-max-queued 5); /stats names the busiest tenants under delivery.tenants',
    ]);
  });

  it('leaves the refusals no setting caused to the caller’s answer and the store’s log', () => {
    const { lines, refused } = setUp();
    refused('shutting_down');
    refused('idempotency_key_reused');
    refused('store_unavailable');
    expect(lines).toEqual([]);
  });
});
