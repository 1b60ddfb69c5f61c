import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { descriptorWaitLog } from '../src/proxy/descriptor-wait-log.js';
import { REPEAT_QUIET_MS } from '../src/proxy/quiet-line.js';
import { FakeClock } from './engine/harness.js';

describe('descriptorWaitLog', () => {
  it('warns at the first wait, then once a quiet spell while they go on, with that spell’s', () => {
    const lines: Record<string, unknown>[] = [];
    const log = {
      warn: (fields: Record<string, unknown>) => lines.push(fields),
    } as unknown as FastifyBaseLogger;
    const clock = new FakeClock();
    const onWait = descriptorWaitLog(log, clock);
    for (let i = 0; i < 5; i++) onWait();
    expect(lines).toEqual([{ waits: 1 }]);
    clock.advance(REPEAT_QUIET_MS - 1);
    onWait();
    expect(lines).toHaveLength(1);
    clock.advance(1);
    expect(lines).toEqual([{ waits: 1 }, { waits: 5 }]);
    clock.advance(REPEAT_QUIET_MS);
    onWait();
    expect(lines).toEqual([{ waits: 1 }, { waits: 5 }, { waits: 1 }]);
  });
});
