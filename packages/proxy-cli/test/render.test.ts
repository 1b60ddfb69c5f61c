import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { formatBody } from '../src/render/body.js';
import { formatAge, formatDuration } from '../src/render/duration.js';
import { paintStatus } from '../src/render/status.js';
import { failureReason, renderTask } from '../src/render/task.js';
import { describePage, renderTaskTable } from '../src/render/task-list.js';
import { makeTask } from './fixtures.js';

const plain = new Chalk({ level: 0 });
const colored = new Chalk({ level: 1 });

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.6, '1000 ms'],
    [1000, '1.0 s'],
    [12_340, '12.3 s'],
    [59_999, '60.0 s'],
    [60_000, '1 m 00 s'],
    [125_000, '2 m 05 s'],
    [3_600_000, '1 h 00 m'],
    [3_725_000, '1 h 02 m'],
    [-5, '0 ms'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('ages are relative to now', () => {
    const now = Date.parse('2026-01-02T10:05:00Z');
    expect(formatAge('2026-01-02T10:04:56Z', now)).toBe('4 s ago');
    expect(formatAge('2026-01-02T10:01:50Z', now)).toBe('3 m 10 s ago');
    expect(formatAge('2026-01-02T10:05:00Z', now)).toBe('just now');
    expect(formatAge('not a date', now)).toBe('not a date');
  });
});

describe('status colours', () => {
  it.each([
    ['completed', '\u001b[32m'],
    ['failed', '\u001b[31m'],
    ['processing', '\u001b[33m'],
    ['pending', '\u001b[90m'],
  ])('%s', (status, ansi) => {
    expect(paintStatus(status, colored)).toBe(`${ansi}${status}\u001b[39m`);
    expect(paintStatus(status, plain)).toBe(status);
  });
});

describe('task detail', () => {
  it('shows the fields and the result body, with no escape codes at level 0', () => {
    const text = renderTask(makeTask(), plain);
    expect(text).not.toContain('\u001b[');
    for (const part of [
      '0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a',
      'completed',
      'POST /api/function1',
      'queued for',
      '250 ms',
      'took',
      '1.5 s',
      'target answered',
      '200',
      'Result body',
      '"result": "ok"',
    ]) {
      expect(text).toContain(part);
    }
  });

  it('a pending task shows its place in the queue and no result', () => {
    const text = renderTask(
      makeTask({
        status: 'pending',
        started_at: null,
        completed_at: null,
        duration_ms: null,
        result: null,
        queue_position: 3,
        estimated_start_at: '2026-01-02T10:00:05.000Z',
      }),
      plain,
    );
    expect(text).toMatch(/queue position\s+│ 3/);
    expect(text).toContain('expected start');
    expect(text).not.toContain('Result body');
  });

  it('a failed task says why', () => {
    const failed = makeTask({
      status: 'failed',
      result: null,
      error: { code: 'upstream_refused', message: 'The target refused the connection' },
    });
    expect(renderTask(failed, plain)).toContain(
      'upstream_refused: The target refused the connection',
    );
    expect(failureReason(failed)).toBe('The target refused the connection');
    const answered = makeTask({
      status: 'failed',
      result: {
        status_code: 500,
        headers: {},
        body: { error: 'x' },
        body_encoding: 'json',
        body_bytes: 11,
      },
      error: { code: 'upstream_status', message: 'non-2xx' },
    });
    expect(failureReason(answered)).toBe('the target answered 500');
  });

  it('marks long tasks', () => {
    expect(renderTask(makeTask({ is_long_task: true }), plain)).toContain('(long task)');
  });
});

describe('result bodies', () => {
  it('text as is, binary as a byte count, long bodies cut with a pointer to --json', () => {
    expect(
      formatBody({
        status_code: 200,
        headers: {},
        body: 'hello',
        body_encoding: 'text',
        body_bytes: 5,
      }),
    ).toBe('hello');
    expect(
      formatBody({
        status_code: 200,
        headers: {},
        body: Buffer.alloc(300).toString('base64'),
        body_encoding: 'base64',
        body_bytes: 3,
      }),
    ).toBe('(300 bytes of binary data: --json has it as base64)');
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const cut = formatBody({
      status_code: 200,
      headers: {},
      body: long,
      body_encoding: 'text',
      body_bytes: long.length,
    });
    expect(cut.split('\n')).toHaveLength(41);
    expect(cut).toMatch(/… 60 more lines \(--json has all of it\)$/);
  });
});

describe('task list', () => {
  it('one row per task with its status colour', () => {
    const now = Date.parse('2026-01-02T10:00:30Z');
    const table = renderTaskTable(
      [
        makeTask(),
        makeTask({
          task_id: 'second',
          status: 'failed',
          result: null,
          error: { code: 'upstream_reset', message: 'reset' },
        }),
      ],
      colored,
      now,
    );
    expect(table).toContain('\u001b[32mcompleted\u001b[39m');
    expect(table).toContain('\u001b[31mfailed\u001b[39m');
    expect(table).toContain('upstream_reset');
    expect(table).toMatch(/│ 30 s\s+│/);
  });

  it('cuts long requests so rows fit a terminal', () => {
    const path = `/api/report?${'x'.repeat(80)}`;
    const table = renderTaskTable([makeTask({ path })], plain, Date.now());
    expect(table).toContain(`POST ${path.slice(0, 30)}…`);
    expect(table).not.toContain(path);
  });

  it.each([
    [{ total: 0, offset: 0, limit: 20, tasks: [] }, 'no tasks'],
    [{ total: 5, offset: 10, limit: 20, tasks: [] }, 'no tasks at offset 10 (5 in all)'],
    [{ total: 2, offset: 0, limit: 20, tasks: [makeTask(), makeTask()] }, 'tasks 1–2 of 2'],
    [
      { total: 45, offset: 20, limit: 2, tasks: [makeTask(), makeTask()] },
      'tasks 21–22 of 45; next page: --offset 22',
    ],
  ])('page %#', (list, text) => {
    expect(describePage(list)).toBe(text);
  });
});
