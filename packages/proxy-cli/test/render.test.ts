import { Chalk } from 'chalk';
import type { Stats } from 'proxy-client/wire';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { formatBody } from '../src/render/body.js';
import { showControls } from '../src/render/control-chars.js';
import { formatAge, formatDuration } from '../src/render/duration.js';
import { formatStartsIn, msToStart } from '../src/render/expected-start.js';
import { renderHealth } from '../src/render/health.js';
import { renderStats } from '../src/render/stats.js';
import { paintStatus } from '../src/render/status.js';
import { failureReason, renderTask } from '../src/render/task.js';
import { describePage, renderTaskTable } from '../src/render/task-list.js';
import { makeTask } from './fixtures.js';

const plain = new Chalk({ level: 0 });
const colored = new Chalk({ level: 1 });
/** Boxes without colour, boxes in colour, and the rows printed off a terminal. */
const boxed = { color: plain, plain: false };
const boxedInColor = { color: colored, plain: false };
const rows = { color: plain, plain: true };

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

describe('showControls', () => {
  it.each([
    ['LINE SEPARATOR', '\u2028', '\\u2028'],
    ['PARAGRAPH SEPARATOR', '\u2029', '\\u2029'],
    ['WORD JOINER', '\u2060', '\\u2060'],
    ['MONGOLIAN VOWEL SEPARATOR', '\u180e', '\\u180e'],
    ['the BOM', '\ufeff', '\\ufeff'],
    ['FUNCTION APPLICATION', '\u2061', '\\u2061'],
    ['INVISIBLE PLUS', '\u2064', '\\u2064'],
    ['INHIBIT SYMMETRIC SWAPPING', '\u206a', '\\u206a'],
    ['NOMINAL DIGIT SHAPES', '\u206f', '\\u206f'],
    ['SOFT HYPHEN', '\u00ad', '\\u00ad'],
    ['ARABIC NUMBER SIGN', '\u0600', '\\u0600'],
    ['INTERLINEAR ANNOTATION ANCHOR', '\ufff9', '\\ufff9'],
    ['TAG LATIN CAPITAL LETTER A, past U+FFFF', '\u{e0041}', '\\u{e0041}'],
    ['RIGHT-TO-LEFT OVERRIDE, as before', '\u202e', '\\u202e'],
  ])('shows %s as its code point', (_name, char, shown) => {
    expect(showControls(`a${char}b`)).toBe(`a${shown}b`);
  });

  it('leaves visible text alone, accents, CJK, emoji and Arabic letters included', () => {
    const text = 'café 日本 👍🏽 مرحبا\ttab\nline';
    expect(showControls(text)).toBe(text);
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

  it('cancelled is dimmed and expired a faded yellow; a status it does not know stays plain', () => {
    expect(paintStatus('cancelled', colored)).toBe('\u001b[2mcancelled\u001b[22m');
    expect(paintStatus('expired', colored)).toBe('\u001b[33m\u001b[2mexpired\u001b[22m\u001b[39m');
    expect(paintStatus('paused', colored)).toBe('paused');
    expect(paintStatus('constructor', colored)).toBe('constructor');
  });
});

describe('task detail', () => {
  it('shows the fields and the result body, with no escape codes at level 0', () => {
    const text = renderTask(makeTask(), boxed);
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

  // UI pass: at 50 columns the boxed table cut the id to `0b6f3a52-…`, which no one can copy.
  it('on a terminal too narrow for the id, drops the box and keeps every value whole', () => {
    const id = '0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a';
    const narrow = renderTask(makeTask(), { ...boxed, columns: 50 });
    expect(narrow).toMatch(new RegExp(`^task id +${id}$`, 'm'));
    expect(narrow).not.toContain('│');
    expect(renderTask(makeTask(), { ...boxed, columns: 80 })).toMatch(new RegExp(`│ ${id} +│`));
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
      boxed,
    );
    expect(text).toMatch(/queue position\s+│ 3/);
    // Read 250 ms after its creation (its age), on the proxy's clock.
    expect(text).toMatch(/expected start\s+│ 2026-01-02T10:00:05.000Z \(in 5 s\)/);
    expect(text).not.toContain('Result body');
  });

  it('a failed task says why', () => {
    const failed = makeTask({
      status: 'failed',
      result: null,
      error: { code: 'upstream_refused', message: 'The target refused the connection' },
    });
    expect(renderTask(failed, boxed)).toContain(
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
    expect(renderTask(makeTask({ is_long_task: true }), boxed)).toContain('(long task)');
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
      boxedInColor,
      now,
    );
    expect(table).toContain('\u001b[32mcompleted\u001b[39m');
    expect(table).toContain('\u001b[31mfailed\u001b[39m');
    expect(table).toContain('upstream_reset');
    expect(table).toMatch(/│ 30 s\s+│/);
  });

  it.each([80, 100, 120, 200])('fits a terminal %i columns wide, whatever the paths', (columns) => {
    const now = Date.parse('2026-01-02T10:00:00Z');
    const tasks = [
      makeTask({ path: `/api/report?${'x'.repeat(120)}`, created_at: '2026-01-02T09:59:12Z' }),
      makeTask({
        path: '/api/fail?status=503',
        status: 'failed',
        result: null,
        error: { code: 'upstream_timeout', message: 'slow' },
        is_long_task: true,
      }),
    ];
    const lines = renderTaskTable(tasks, { ...boxed, columns }, now).split('\n');
    const widest = Math.max(...lines.map((line) => [...line].length));
    expect(widest).toBeLessThanOrEqual(columns);
    // The ids are whole: they are what `wait <id>` takes.
    for (const task of tasks) expect(lines.join('\n')).toContain(task.task_id);
    // Up to the cap on the request column, the table takes the room there is.
    if (columns === 120) expect(widest).toBeGreaterThan(columns - 10);
  });

  // A long task's status and an age of `just now` left no room for a 12-character request: 83 wide.
  it('fits 80 columns with a long task just submitted, cutting the request short', () => {
    const now = Date.parse('2026-01-02T10:00:00Z');
    const task = makeTask({
      status: 'processing',
      is_long_task: true,
      created_at: '2026-01-02T09:59:59.500Z',
      path: '/api/function1',
    });
    const lines = renderTaskTable([task], { ...boxed, columns: 80 }, now).split('\n');
    expect(Math.max(...lines.map((line) => [...line].length))).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).toContain(task.task_id);
    expect(lines.join('\n')).toMatch(/│ POST \/a… │ just now │/);
  });

  it('gives the request the room a wide terminal leaves, up to 60 characters', () => {
    const path = `/api/report?${'x'.repeat(120)}`;
    const table = renderTaskTable([makeTask({ path })], { ...boxed, columns: 300 }, Date.now());
    expect(table).toContain(`POST ${path.slice(0, 54)}…`);
  });

  it('drops took, then code, on a terminal too narrow for them', () => {
    const task = makeTask({ path: '/api/function1' });
    const heads = (columns: number) =>
      renderTaskTable([task], { ...boxed, columns }, Date.now()).split('\n')[1] ?? '';
    expect(heads(120)).toMatch(/took.*code/);
    expect(heads(90)).not.toContain('took');
    expect(heads(90)).toContain('code');
    expect(heads(80)).not.toContain('took');
    expect(heads(80)).not.toContain('code');
    expect(heads(80)).toContain('task id');
  });

  // Below about 76 columns every boxed row wrapped: a 36-character id and the borders.
  it.each([40, 60, 75])(
    'stacks each task on two unboxed lines at %i columns, its whole id on the first',
    (columns) => {
      const now = Date.parse('2026-01-02T10:00:00Z');
      const tasks = [
        makeTask({ path: `/api/report?${'x'.repeat(80)}`, created_at: '2026-01-02T09:59:30Z' }),
        makeTask({ task_id: 'b'.repeat(36), status: 'processing', is_long_task: true }),
      ];
      const lines = renderTaskTable(tasks, { ...boxed, columns }, now).split('\n');
      expect(Math.max(...lines.map((line) => [...line].length))).toBeLessThanOrEqual(columns);
      expect(lines.join('\n')).not.toMatch(/[│┌└]/);
      expect(lines[0]).toBe('task id');
      expect(lines[1]).toMatch(/^ {2}status +age +.*request$/);
      expect(lines[2]).toBe(tasks[0]?.task_id);
      expect(lines[3]).toMatch(/^ {2}completed +30 s +.*POST \/api\/.*…$/);
      expect(lines[4]).toBe('b'.repeat(36));
      expect(lines[5]).toMatch(/^ {2}processing long +.* POST \/api/);
    },
  );

  it('keeps took and code when stacked while the request keeps 12 characters', () => {
    const now = Date.parse('2026-01-02T10:00:00Z');
    const heads = (columns: number) =>
      renderTaskTable([makeTask()], { ...boxed, columns }, now).split('\n')[1] ?? '';
    expect(heads(70)).toMatch(/status +age +took +code +request/);
    expect(heads(40)).not.toMatch(/took|code/);
  });

  // A request was cut to as many characters as its column had columns, and a CJK character takes
  // two: `POST /api/报告…` made the row wider than the terminal; one past U+FFFF was cut in half.
  it.each([40, 80])('cuts a CJK request by the columns it takes at %i columns', (columns) => {
    const now = Date.parse('2026-01-02T10:00:30Z');
    const path = `/api/${'报告𠀋'.repeat(20)}`;
    const lines = renderTaskTable([makeTask({ path })], { ...boxed, columns }, now).split('\n');
    expect(
      Math.max(...lines.map((line) => stringWidth(line))),
      lines.join('\n'),
    ).toBeLessThanOrEqual(columns);
    const request = lines.join('\n').match(/POST [^│\n]*…/)?.[0] ?? '';
    expect(`POST ${path}`.startsWith(request.slice(0, -1)), request).toBe(true);
    const halves = [...request].filter((char) => /^[\ud800-\udfff]$/.test(char));
    expect(halves).toEqual([]);
  });

  it('cuts long requests so rows fit a terminal', () => {
    const path = `/api/report?${'x'.repeat(80)}`;
    const table = renderTaskTable([makeTask({ path })], boxed, Date.now());
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

describe('off a terminal: plain tab-separated rows', () => {
  const stats: Stats = {
    tasks: {
      pending: 1,
      processing: 2,
      completed: 3,
      failed: 4,
      cancelled: 0,
      expired: 0,
      total: 10,
    },
    queue_size: 1,
    max_queue_size: 100,
    max_concurrent: 10,
    num_workers: 5,
    effective_concurrency: 5,
    in_flight: 2,
    long_tasks: 0,
    avg_processing_ms: 781,
    totals: {
      submitted: 33,
      completed: 31,
      failed: 1,
      cancelled: 0,
      expired: 0,
      rejected_queue_full: 2,
      removed: 28,
    },
    store: 'sqlite',
    delivery: {
      retrying: 0,
      retries: 0,
      shed: 0,
      rate_limit: null,
      tenants: [],
      callbacks: { delivered: 0, failed: 0 },
    },
    uptime_s: 14.5,
    started_at: '2026-01-02T10:00:00.000Z',
    target: 'http://127.0.0.1:8000',
    version: '0.1.0',
    instance: 'proxy-a:8080',
  };
  const noBoxes = (text: string) => {
    expect(text).not.toMatch(/[│┌┐└┘─]/);
    expect(text).not.toContain('\u001b[');
  };

  it('a task list is one row per task, no header, every value in full', () => {
    const path = `/api/report?${'x'.repeat(80)}`;
    const text = renderTaskTable(
      [
        makeTask({ path, is_long_task: true }),
        makeTask({
          task_id: 'second',
          status: 'failed',
          result: null,
          duration_ms: null,
          error: { code: 'upstream_reset', message: 'reset' },
        }),
      ],
      rows,
      Date.now(),
    );
    noBoxes(text);
    expect(text.split('\n').map((line) => line.split('\t'))).toEqual([
      [
        '0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a',
        'completed',
        'POST',
        path,
        '2026-01-02T10:00:00.000Z',
        '1500',
        '200',
        'true',
      ],
      [
        'second',
        'failed',
        'POST',
        '/api/function1',
        '2026-01-02T10:00:00.000Z',
        '',
        'upstream_reset',
        'false',
      ],
    ]);
  });

  it('a task is field<TAB>value lines named as in JSON, then -- and the whole body', () => {
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const text = renderTask(
      makeTask({
        result: {
          status_code: 200,
          headers: {},
          body: long,
          body_encoding: 'text',
          body_bytes: long.length,
        },
      }),
      rows,
    );
    noBoxes(text);
    const [fields, body] = text.split('\n--\n');
    expect(fields).toContain('task_id\t0b6f3a52-5f6e-4d8a-9a43-1f1e2d3c4b5a\n');
    expect(fields).toContain('status\tcompleted\n');
    expect(fields).toContain('duration_ms\t1500\n');
    expect(fields).toContain('result.status_code\t200\n');
    expect(body).toBe(long);
  });

  it('stats and health are name<TAB>value lines named by their JSON paths', () => {
    const text = renderStats(stats, rows);
    noBoxes(text);
    const lines = new Map(text.split('\n').map((line) => line.split('\t') as [string, string]));
    expect(lines.get('tasks.failed')).toBe('4');
    expect(lines.get('tasks.total')).toBe('10');
    expect(lines.get('queue_size')).toBe('1');
    expect(lines.get('totals.rejected_queue_full')).toBe('2');
    expect(lines.get('avg_processing_ms')).toBe('781');
    // New user pass: which store, and whether the proxy restarted, were in --json only.
    expect(lines.get('store')).toBe('sqlite');
    expect(lines.get('started_at')).toBe('2026-01-02T10:00:00.000Z');
    // Behind a load balancer nothing said which instance's totals and uptime these were.
    expect(lines.get('instance')).toBe('proxy-a:8080');
    expect(renderStats(stats, boxed)).toMatch(/instance\s+│ proxy-a:8080/);
    expect(renderStats(stats, boxed)).toMatch(/store\s+│ sqlite/);
    expect(renderStats(stats, boxed)).toMatch(
      /uptime\s+│ 14\.5 s \(started 2026-01-02T10:00:00\.000Z\)/,
    );
    const health = renderHealth(
      {
        success: true,
        status: 'ok',
        target: { url: 'http://t', reachable: true, latency_ms: 3 },
        store: { kind: 'sqlite', available: true, message: null },
      },
      'http://proxy',
      rows,
    );
    expect(health).toBe(
      'proxy\thttp://proxy\nstatus\tok\ntarget.url\thttp://t\ntarget.reachable\ttrue\ntarget.latency_ms\t3\nstore.kind\tsqlite\nstore.available\ttrue\nstore.message\t',
    );
  });

  it('what the delivery policy did, boxed and plain, for a task and the stats', () => {
    const task = makeTask({
      status: 'pending',
      result: null,
      duration_ms: null,
      attempts: 1,
      max_attempts: 3,
      priority: 'high',
      tenant: 'team-a',
      deadline_at: '2026-01-02T10:10:00.000Z',
      next_attempt_at: '2026-01-02T10:00:05.000Z',
      attempt_history: [
        {
          attempt: 1,
          started_at: '2026-01-02T10:00:01.000Z',
          finished_at: '2026-01-02T10:00:02.000Z',
          outcome: 'failed',
          status_code: 503,
          error_code: 'upstream_status',
          retry_at: '2026-01-02T10:00:05.000Z',
        },
      ],
      callback: {
        url: 'https://hooks.example/done',
        state: 'pending',
        deliveries: [],
        next_at: null,
      },
    });
    const box = renderTask(task, boxed);
    for (const row of [
      /priority\s+│ high/,
      /tenant\s+│ team-a/,
      /start by\s+│ 2026-01-02T10:10:00.000Z/,
      /attempts\s+│ 1 of at most 3/,
      /attempt 1\s+│ 503 at 2026-01-02T10:00:02.000Z, tried again/,
      /next attempt\s+│ 2026-01-02T10:00:05.000Z/,
      /callback\s+│ pending \(0 deliveries\) to https:\/\/hooks.example\/done/,
    ]) {
      expect(box).toMatch(row);
    }
    const fields = new Map(
      renderTask(task, rows)
        .split('\n')
        .map((line) => line.split('\t') as [string, string]),
    );
    expect(
      Object.fromEntries(
        ['priority', 'tenant', 'max_attempts', 'callback.state'].map((k) => [k, fields.get(k)]),
      ),
    ).toEqual({
      priority: 'high',
      tenant: 'team-a',
      max_attempts: '3',
      'callback.state': 'pending',
    });

    const busy: Stats = {
      ...stats,
      delivery: {
        retrying: 2,
        retries: 7,
        shed: 1,
        rate_limit: { max_rps: 5, burst: 10 },
        tenants: [{ tenant: '', queued: 4, in_flight: 1 }],
        rejected_tenant_queue_full: 6,
        callbacks: { delivered: 3, failed: 1, pending: 2 },
      },
    };
    const statsBox = renderStats(busy, boxed);
    expect(statsBox).toMatch(/retries\s+│ 2 waiting · 7 since start/);
    expect(statsBox).toMatch(/rate limit\s+│ 5\/s, burst 10/);
    expect(statsBox).toMatch(/tenant \(unnamed\)\s+│ 4 queued · 1 in flight/);
    expect(statsBox).toMatch(/callbacks\s+│ 3 delivered · 1 given up · 2 pending/);
    expect(statsBox).toMatch(/tenant queue full\s+│ 6 refused since start/);
    expect(renderStats(stats, boxed)).not.toMatch(/retries|rate limit|tenant|callbacks/);
    const hostile: Stats = {
      ...busy,
      target: 'http://t\u001b]0;x\u0007/',
      delivery: { ...busy.delivery, tenants: [{ tenant: 'a\u009b2Jb', queued: 1, in_flight: 0 }] },
    };
    const hostileBox = renderStats(hostile, boxed);
    expect(hostileBox).toContain('tenant a\\x9b2Jb');
    expect(hostileBox).toContain('http://t\\x1b]0;x\\x07/');
    for (const control of ['\u001b', '\u0007', '\u009b']) expect(hostileBox).not.toContain(control);
    expect(renderStats(hostile, rows)).toContain('delivery.tenants.0.tenant\ta\u009b2Jb');
    // Requeued after a shutdown (--requeue-interrupted): more calls than retries allow.
    const cutOff = {
      attempt: 1,
      started_at: '2026-01-02T10:00:01.000Z',
      finished_at: '2026-01-02T10:00:09.000Z',
      outcome: 'failed',
      status_code: null,
      error_code: 'interrupted',
      retry_at: null,
    } as const;
    const last = {
      ...cutOff,
      attempt: 2,
      finished_at: '2026-01-02T10:01:00.000Z',
      outcome: 'completed',
      status_code: 200,
      error_code: null,
    } as const;
    const requeued = renderTask(
      makeTask({ attempts: 2, max_attempts: 1, attempt_history: [cutOff, last] }),
      boxed,
    );
    expect(requeued).toMatch(/attempts\s+│ 2 /);
    expect(requeued).not.toContain('of at most');
    // The call the stop cut off is shown; the last is the task's own fields.
    expect(requeued).toMatch(/attempt 1\s+│ interrupted at 2026-01-02T10:00:09.000Z, tried again/);
    expect(requeued).not.toMatch(/attempt 2\s+│/);
    const lines = new Map(
      renderStats(busy, rows)
        .split('\n')
        .map((line) => line.split('\t') as [string, string]),
    );
    expect(lines.get('delivery.retrying')).toBe('2');
    expect(lines.get('delivery.rate_limit.max_rps')).toBe('5');
    expect(lines.get('delivery.tenants.0.tenant')).toBe('');
    expect(lines.get('delivery.tenants.0.queued')).toBe('4');
    expect(lines.get('delivery.callbacks.failed')).toBe('1');
    expect(lines.get('delivery.callbacks.pending')).toBe('2');
    expect(lines.get('delivery.rejected_tenant_queue_full')).toBe('6');
  });

  it('health names the store, and why it cannot be used', () => {
    const health = {
      success: true,
      status: 'degraded',
      target: { url: 'http://t', reachable: true, latency_ms: 3 },
      store: {
        kind: 'redis',
        available: false,
        message: 'cannot reach Redis at redis://r:6379: connect ECONNREFUSED',
      },
    } as const;
    expect(renderHealth(health, 'http://proxy', rows)).toContain(
      'store.available\tfalse\nstore.message\tcannot reach Redis at redis://r:6379: connect ECONNREFUSED',
    );
    expect(renderHealth(health, 'http://proxy', boxed)).toMatch(
      /store\s+│ redis {2}not available: cannot reach Redis at redis:\/\/r:6379/,
    );
  });

  it('health says why the target is not reachable, or why a reachable one gave no answer', () => {
    const refused = {
      success: true,
      status: 'degraded',
      target: {
        url: 'http://t',
        reachable: false,
        latency_ms: null,
        message: 'connect ECONNREFUSED',
      },
    } as const;
    expect(renderHealth(refused, 'http://proxy', rows)).toContain(
      'target.reachable\tfalse\ntarget.latency_ms\t\ntarget.message\tconnect ECONNREFUSED',
    );
    expect(renderHealth(refused, 'http://proxy', boxed)).toMatch(
      /target\s+│ http:\/\/t {2}not reachable: connect ECONNREFUSED/,
    );
    const busy = {
      success: true,
      status: 'ok',
      target: { url: 'http://t', reachable: true, latency_ms: null, message: 'no answer: busy' },
    } as const;
    expect(renderHealth(busy, 'http://proxy', boxed)).toMatch(
      /target\s+│ http:\/\/t {2}reachable: no answer: busy/,
    );
  });

  it('on a terminal the same data is drawn in boxes', () => {
    expect(renderStats(stats, boxed)).toMatch(/┌─+┬─+┐/);
    expect(renderTaskTable([makeTask()], boxed, Date.now())).toMatch(/│ task id\s+│ status/);
  });

  // The "since start" row made the second stats table 98 wide on an 80-column terminal.
  it('on an 80-column terminal the stats wrap long values to keep within it', () => {
    const busy: Stats = {
      ...stats,
      num_workers: 8,
      target: 'http://target.example/v1/predict',
      totals: { ...stats.totals, submitted: 123456, completed: 120000, rejected_queue_full: 3456 },
    };
    const text = renderStats(busy, { ...boxed, columns: 80 });
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => [...line].length))).toBeLessThanOrEqual(80);
    expect(text).toMatch(/since start +│ 123456 submitted · 120000 completed/);
    expect(text).toContain('28 removed');
    // Without a width (or with room enough) nothing wraps.
    expect(renderStats(busy, boxed)).toMatch(/refused \(queue full\) · 28 removed +│/);
    // A word longer than the room (a long target URL) is shown whole, on plain lines.
    const target = `http://target.example/${'x'.repeat(90)}`;
    expect(renderStats({ ...busy, target }, { ...boxed, columns: 80 })).toMatch(
      new RegExp(`^target +${target}$`, 'm'),
    );
  });

  it('a count the proxy does not send (an older proxy) shows as 0', () => {
    const older = { ...stats, tasks: { ...stats.tasks } } as Stats;
    delete (older.tasks as Partial<Stats['tasks']>).failed;
    expect(renderStats(older, rows)).toContain('tasks.failed\t0');
  });

  // The fields /work/shared/SPEC.md requires and no more: a proxy other than proxy-server.
  it('stats with only the fields the contract requires: their rows, and none for the rest', () => {
    const {
      effective_concurrency: _e,
      totals: _t,
      store: _s,
      delivery: _d,
      started_at: _a,
      version: _v,
      instance: _i,
      ...minimal
    } = stats;
    const lines = renderStats(minimal, rows).split('\n');
    expect(lines).toContain('tasks.failed\t4');
    expect(lines).toContain('uptime_s\t14.5');
    expect(
      lines.filter((line) =>
        /^(totals|delivery|version|effective|store|started|instance)/.test(line),
      ),
    ).toEqual([]);
    const text = renderStats(minimal, boxed);
    expect(text).toMatch(/in flight\s+│ 2 \/ 5 \(min of 5 workers, max concurrent 10\)/);
    expect(text).not.toMatch(/since start|version|instance|undefined/);
  });

  it('health with only status and target.reachable: those rows, no store', () => {
    const minimal = { success: true, status: 'degraded', target: { reachable: false } } as const;
    expect(renderHealth(minimal, 'http://proxy', rows)).toBe(
      'proxy\thttp://proxy\nstatus\tdegraded\ntarget.reachable\tfalse',
    );
    const text = renderHealth(minimal, 'http://proxy', boxed);
    expect(text).toMatch(/target\s+│ not reachable/);
    expect(text).not.toMatch(/store|undefined/);
  });
});

describe('when a queued task should start', () => {
  it('is counted from the read, on the proxy clock, whatever the terminal clock says', () => {
    const queued = makeTask({
      status: 'pending',
      started_at: null,
      duration_ms: null,
      estimated_start_at: '2026-01-02T11:02:30.250Z',
    });
    expect(msToStart(queued)).toBe(3_750_000);
    expect(formatStartsIn(3_750_000)).toBe('in 1 h 02 m');
    expect(formatStartsIn(125_000)).toBe('in 2 m 05 s');
    expect(formatStartsIn(4_001)).toBe('in 5 s');
    expect(formatStartsIn(999)).toBe('any moment');
    expect(formatStartsIn(-5_000)).toBe('any moment');
  });

  it('counts a retry that waits from the read too: its age includes the call it made', () => {
    const retrying = makeTask({
      status: 'pending',
      started_at: '2026-01-02T10:00:00.250Z',
      queue_ms: 250,
      duration_ms: 4_750,
      estimated_start_at: '2026-01-02T10:00:15.000Z',
    });
    expect(msToStart(retrying)).toBe(10_000);
  });

  it('is unknown without an estimate, or with a time it cannot read', () => {
    expect(msToStart(makeTask({ estimated_start_at: null }))).toBeNull();
    expect(msToStart(makeTask({ estimated_start_at: 'soon' }))).toBeNull();
  });
});
