import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { REPEAT_QUIET_MS } from '../src/proxy/quiet-line.js';
import { storeErrorLog } from '../src/proxy/store-error-log.js';
import { FakeClock } from './engine/harness.js';

/** A logger that keeps what error() was given. */
function recordingLog() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const log = {
    error: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }),
  } as unknown as FastifyBaseLogger;
  return { log, lines };
}

describe('storeErrorLog', () => {
  it('logs a failure once, then once a quiet spell later with how often it came meanwhile', () => {
    const { log, lines } = recordingLog();
    const clock = new FakeClock();
    const onError = storeErrorLog(log, clock);
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (let second = 0; second < 10; second++) {
      onError(refused, 'running queued tasks (BullMQ worker)');
      onError(refused, 'running queued tasks (BullMQ worker)');
      onError(refused, 'queueing (BullMQ)');
      clock.advance(1_000);
    }
    expect(lines.map((line) => line.message)).toEqual([
      'task store: running queued tasks (BullMQ worker)',
      'task store: queueing (BullMQ)',
    ]);
    expect(lines[0]?.fields).toEqual({ err: refused });

    clock.advance(REPEAT_QUIET_MS);
    onError(refused, 'queueing (BullMQ)');
    onError(new Error('Command timed out'), 'queueing (BullMQ)');
    expect(lines.slice(2).map((line) => line.fields)).toEqual([
      { err: refused, repeatedSinceLastLine: 9 },
      { err: new Error('Command timed out') },
    ]);
  });
});

describe('storeErrorLog, a failure for many tasks', () => {
  // Redis pass: during an outage, each refused submission's taking back logged its own line
  // with a stack, its task id making every line new: one per retry of a client's storm.
  it('is one line, then the quiet spell, whatever task each was about', () => {
    const { log, lines } = recordingLog();
    const clock = new FakeClock();
    const onError = storeErrorLog(log, clock);
    const down = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    for (let n = 0; n < 30; n++) {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      onError(down, `taking back task ${id}, whose admission failed`);
    }
    expect(lines.map((line) => line.message)).toEqual([
      'task store: taking back task 00000000-0000-4000-8000-000000000000, whose admission failed',
    ]);
    clock.advance(REPEAT_QUIET_MS);
    onError(down, 'taking back task 00000000-0000-4000-8000-000000000099, whose admission failed');
    expect(lines[1]?.fields).toEqual({ err: down, repeatedSinceLastLine: 29 });
  });
});
