import { Writable } from 'node:stream';
import { Chalk } from 'chalk';
import type { TaskChangeEvent } from 'proxy-client';
import type { Stats, TaskErrorCode, TaskSummary } from 'proxy-client/wire';
import stringWidth from 'string-width';
import { describe, expect, it, vi } from 'vitest';
import { LiveView } from '../src/live-view.js';
import { Output } from '../src/output.js';
import { terminalRows } from '../src/render/display-width.js';
import { renderStatsLine, STATS_LINE_FIELDS } from '../src/render/stats.js';
import { renderBoard, TaskBoard } from '../src/render/task-board.js';
import { eventDocument, renderEventLine } from '../src/render/task-events.js';
import { renderTaskTable } from '../src/render/task-list.js';
import { makeTask } from './fixtures.js';

// Counts the tables the board draws; each call still draws as the real one does.
vi.mock('../src/render/task-list.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/render/task-list.js')>();
  return { ...real, renderTaskTable: vi.fn(real.renderTaskTable) };
});

const plain = new Chalk({ level: 0 });
const rows = { color: plain, plain: true };
const boxed = { color: plain, plain: false };
const noCounts = {
  pending: 0,
  processing: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  expired: 0,
  total: 0,
};

const summary = (overrides: Partial<TaskSummary> = {}): TaskSummary => {
  const { result, ...task } = makeTask(overrides as never);
  const { body: _, ...rest } = result ?? { body: null };
  return { ...task, result: result ? (rest as TaskSummary['result']) : null, ...overrides };
};
const event = (type: TaskChangeEvent['type'], task: TaskSummary, id = '1'): TaskChangeEvent => ({
  type,
  id,
  task,
});

describe('--watch off a terminal: a line per event', () => {
  it('the event type, then the columns of a --list-tasks row', () => {
    const task = summary({ task_id: 't-1', status: 'completed', duration_ms: 1500 });
    expect(renderEventLine(event('finished', task), rows).split('\t')).toEqual([
      'finished',
      't-1',
      'completed',
      'POST',
      '/api/function1',
      '2026-01-02T10:00:00.000Z',
      '1500',
      '200',
      'false',
    ]);
    expect(renderEventLine({ type: 'reset' }, rows)).toBe('reset');
  });

  it('--json: a document per event with the task id as a field', () => {
    const task = summary({ task_id: 't-2' });
    expect(eventDocument(event('started', task, 'b-7'))).toEqual({
      event: 'started',
      id: 'b-7',
      task_id: 't-2',
      task,
    });
    expect(eventDocument({ type: 'reset' })).toEqual({ event: 'reset' });
  });
});

describe('the board of --watch on a terminal', () => {
  const at = (minute: number) => `2026-01-02T10:${String(minute).padStart(2, '0')}:00.000Z`;

  it('keeps the newest first and each task once, in its latest state', () => {
    const board = new TaskBoard();
    board.replace([summary({ task_id: 'old', created_at: at(1) })]);
    board.apply(
      event('created', summary({ task_id: 'new', status: 'pending', created_at: at(5) })),
    );
    board.apply(
      event('started', summary({ task_id: 'new', status: 'processing', created_at: at(5) })),
    );
    expect(board.tasks.map((t) => [t.task_id, t.status])).toEqual([
      ['new', 'processing'],
      ['old', 'completed'],
    ]);
  });

  it('an event older than the list read never takes a finished task back', () => {
    const board = new TaskBoard();
    board.replace([summary({ task_id: 'a', status: 'completed' })]);
    board.apply(event('started', summary({ task_id: 'a', status: 'processing' })));
    expect(board.tasks[0]?.status).toBe('completed');
  });

  it('with statuses, shows those only, and lets a task leave when it moves on', () => {
    const board = new TaskBoard(['pending', 'processing']);
    board.replace([summary({ task_id: 'done' }), summary({ task_id: 'q', status: 'pending' })]);
    expect(board.tasks.map((t) => t.task_id)).toEqual(['q']);
    board.apply(event('finished', summary({ task_id: 'q', status: 'failed' })));
    expect(board.tasks).toEqual([]);
  });

  it("says in the foot that the proxy is away, rather than 'live', until it is back", () => {
    const frame = (away?: string) =>
      renderBoard(new TaskBoard(), {
        url: 'u',
        look: boxed,
        now: 0,
        rows: 12,
        ...(away !== undefined && { away }),
      })
        .split('\n')
        .at(-1);
    expect(frame(' (ECONNREFUSED)')).toBe(
      'the proxy is away (ECONNREFUSED); reconnecting until it is back · Ctrl-C to stop',
    );
    expect(frame()).toBe("live from the proxy's events · Ctrl-C to stop");
  });

  it('draws a title with the counts, the table cut to the terminal, and a foot', () => {
    const board = new TaskBoard();
    board.replace(
      Array.from({ length: 30 }, (_, i) =>
        summary({ task_id: `task-${String(i).padStart(2, '0')}`, created_at: at(i) }),
      ),
    );
    const frame = renderBoard(board, {
      url: 'http://p:1',
      look: boxed,
      now: Date.parse(at(40)),
      rows: 16,
    });
    const lines = frame.split('\n');
    // No counts from /stats yet: the title says it counted only the tasks loaded.
    expect(lines[0]).toBe('proxy-cli watch http://p:1: of the 30 newest, 30 completed');
    expect(lines).toHaveLength(16);
    expect(frame).toContain('task-29');
    expect(frame).not.toContain('task-19');
    expect(lines.at(-1)).toBe(
      "the 10 newest of 30 · live from the proxy's events · Ctrl-C to stop",
    );
  });

  // At 40 and 60 columns every boxed row wrapped, and the frame's foot fell off the screen.
  it.each([40, 60])(
    'at %i columns, stacks the tasks and takes no more rows than the terminal has',
    (columns) => {
      const board = new TaskBoard();
      const id = (i: number) => `${String(i).padStart(2, '0')}${'a'.repeat(34)}`;
      board.replace(
        Array.from({ length: 30 }, (_, i) => summary({ task_id: id(i), created_at: at(i) })),
      );
      const frame = renderBoard(board, {
        url: 'http://127.0.0.1:41257',
        look: boxed,
        now: Date.parse(at(40)),
        rows: 16,
        columns,
      });
      const lines = frame.split('\n');
      expect(lines).toHaveLength(16);
      expect(lines.every((line) => [...line].length <= columns)).toBe(true);
      expect(frame).not.toMatch(/[│┌└]/);
      expect(lines).toContain(id(29));
      expect(lines.at(-1)).toMatch(
        /^\d+ of 30 · live( from the proxy's events)? · Ctrl-C to stop$/,
      );
    },
  );

  // A CJK character takes two columns and was counted as one: rows ran past the terminal's edge,
  // an error code of `超时` pushed its request out of line, and the frame took more rows than it
  // counted.
  it.each([40, 80])('at %i columns, measures CJK text by the columns it takes', (columns) => {
    const board = new TaskBoard();
    board.replace(
      Array.from({ length: 30 }, (_, i) =>
        summary({
          task_id: `${String(i).padStart(2, '0')}${'a'.repeat(34)}`,
          // Seconds apart, so that short ages leave the requests room.
          created_at: `2026-01-02T10:00:${String(i).padStart(2, '0')}.000Z`,
          status: 'failed',
          path: `/api/${'报告'.repeat(i % 8)}\u001b`,
          result: null,
          // A proxy other than proxy-server may send any text as an error code.
          error: {
            code: (i % 2 ? '超时' : 'reset') as TaskErrorCode,
            message: 'the target took too long',
          },
        }),
      ),
    );
    const frame = renderBoard(board, {
      url: 'http://127.0.0.1:41257',
      look: boxed,
      now: Date.parse('2026-01-02T10:00:40.000Z'),
      rows: 16,
      columns,
    });
    const lines = frame.split('\n');
    expect(Math.max(...lines.map((line) => stringWidth(line))), frame).toBeLessThanOrEqual(columns);
    expect(lines.reduce((sum, line) => sum + terminalRows(line, columns), 0)).toBe(16);
    // The escape is shown, and measured, as the four characters `\x1b`.
    expect(frame).toContain('/api/\\x');
    expect(frame).not.toContain('\u001b');
    const requestAt = (line: string) => stringWidth(line.slice(0, line.search(/request|POST/)));
    const starts = lines.filter((line) => /request|POST/.test(line)).map(requestAt);
    expect(starts.length).toBeGreaterThan(3);
    expect(new Set(starts).size, frame).toBe(1);
  });

  // At 40 columns in tmux the title and the foot each wrapped onto a second line.
  it('keeps the title and the foot to a line each, giving way their lesser parts first', () => {
    const board = new TaskBoard();
    board.replace(
      Array.from({ length: 30 }, (_, i) => summary({ task_id: `t-${i}`, created_at: at(i) })),
    );
    const frame = (columns: number, more: { away?: string; counts?: boolean } = {}) => {
      const lines = renderBoard(board, {
        url: 'http://127.0.0.1:41257',
        look: boxed,
        now: Date.parse(at(40)),
        rows: 12,
        columns,
        ...(more.away !== undefined && { away: more.away }),
        ...(more.counts && { counts: { ...noCounts, completed: 463, failed: 7, total: 470 } }),
      }).split('\n');
      return [lines[0], lines.at(-1)];
    };
    expect(frame(80)).toEqual([
      'proxy-cli watch http://127.0.0.1:41257: of the 30 newest, 30 completed',
      "the 6 newest of 30 · live from the proxy's events · Ctrl-C to stop",
    ]);
    expect(frame(60)).toEqual([
      'watch 127.0.0.1:41257: of the 30 newest, 30 completed',
      "6 of 30 · live from the proxy's events · Ctrl-C to stop",
    ]);
    expect(frame(40)).toEqual(['127.0.0.1:41257: 30 completed', '4 of 30 · live · Ctrl-C to stop']);
    expect(frame(40, { counts: true, away: ' (ECONNREFUSED)' })).toEqual([
      '127.0.0.1:41257: 463 completed, 7 failed',
      '4 of 30 · proxy away · Ctrl-C to stop',
    ]);
    expect(frame(60, { away: ' (ECONNREFUSED)' })[1]).toBe(
      '6 of 30 · proxy away (ECONNREFUSED) · Ctrl-C to stop',
    );
  });

  // At 40 columns, with four statuses counted or more, the title still wrapped: the host and the
  // statuses' full names were all it had left to give.
  it.each([
    [
      { pending: 4, processing: 2, completed: 463, failed: 7 },
      undefined,
      '4 pend, 2 proc, 463 done, 7 fail',
    ],
    [
      { pending: 4, processing: 2, completed: 463, failed: 7, cancelled: 1 },
      undefined,
      '4 pend, 2 proc, 463 done, 7 fail, 1 cncl',
    ],
    [
      { pending: 4, processing: 2, completed: 463, failed: 7 },
      ['pending', 'processing', 'completed', 'failed'] as const,
      '4 pend, 2 proc, 463 done, 7 fail',
    ],
    // With all six counted the short names alone made 42 columns: the room between each count
    // and its name gives way, then large counts are rounded down and the names cut to a letter.
    [
      { pending: 4, processing: 2, completed: 463, failed: 7, cancelled: 1, expired: 3 },
      undefined,
      '4pend 2proc 463done 7fail 1cncl 3exp',
    ],
    [
      { pending: 12, processing: 34, completed: 4630, failed: 70, cancelled: 15, expired: 9 },
      undefined,
      '12p 34r 4630d 70f 15c 9e',
    ],
    [
      {
        pending: 98_765,
        processing: 4321,
        completed: 123_456_789,
        failed: 1_999_999,
        cancelled: 55_555,
        expired: 10_000,
      },
      undefined,
      '98kp 4321r 123Md 1.9Mf 55kc 10ke',
    ],
    [
      {
        pending: 999_999_999,
        processing: 999_999_999,
        completed: 999_999_999,
        failed: 999_999_999,
        cancelled: 999_999_999,
        expired: 999_999_999,
      },
      undefined,
      '999Mp 999Mr 999Md 999Mf 999Mc 999Me',
    ],
  ])('at 40 columns, a title of %o (only %o) fits a line', (counts, statuses, title) => {
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const frame = renderBoard(new TaskBoard(statuses), {
      url: 'http://127.0.0.1:41257',
      look: boxed,
      now: Date.parse(at(40)),
      rows: 12,
      columns: 40,
      counts: { ...noCounts, ...counts, total },
    });
    expect(frame.split('\n')[0]).toBe(title);
  });

  // Fitting a narrow terminal drew the whole table again for each length it tried, every frame.
  it.each([40, 80, 130])('draws the table once a frame at %i columns', (columns) => {
    const board = new TaskBoard();
    board.replace(
      Array.from({ length: 30 }, (_, i) => summary({ task_id: `task-${i}`, created_at: at(i) })),
    );
    const counts = { ...noCounts, pending: 4, processing: 2, completed: 463, failed: 7 };
    vi.mocked(renderTaskTable).mockClear();
    renderBoard(board, {
      url: 'http://127.0.0.1:41257',
      look: boxed,
      now: Date.parse(at(40)),
      rows: 24,
      columns,
      counts: { ...counts, total: 476 },
    });
    expect(renderTaskTable).toHaveBeenCalledTimes(1);
  });

  it('the title counts every task the proxy holds (its /stats), not only the rows loaded', () => {
    const board = new TaskBoard();
    board.replace(
      Array.from({ length: 200 }, (_, i) =>
        summary({
          task_id: `t-${i}`,
          created_at: at(i % 60),
          status: i < 2 ? 'failed' : 'completed',
        }),
      ),
    );
    const counts = {
      pending: 4,
      processing: 2,
      completed: 463,
      failed: 7,
      cancelled: 0,
      expired: 0,
      total: 476,
    };
    const frame = (b: TaskBoard) =>
      renderBoard(b, { url: 'http://p:1', look: boxed, now: Date.parse(at(59)), rows: 12, counts });
    expect(frame(board).split('\n')[0]).toBe(
      'proxy-cli watch http://p:1: 4 pending · 2 processing · 463 completed · 7 failed',
    );
    const onlyFailed = new TaskBoard(['failed', 'cancelled']);
    expect(frame(onlyFailed).split('\n')[0]).toBe(
      'proxy-cli watch http://p:1 (only failed, cancelled): 7 failed',
    );
    const empty = { ...counts, pending: 0, processing: 0, completed: 0, failed: 0, total: 0 };
    expect(
      renderBoard(new TaskBoard(), { url: 'u', look: boxed, now: 0, rows: 12, counts: empty }),
    ).toMatch(/^proxy-cli watch u: no tasks yet$/m);
  });

  it("a count the proxy's /stats sent as text shows escaped in the title", () => {
    // Nothing checks that the stats' counts are numbers; one that reads as a number with a
    // control character around it (`Number('\v5')` is 5) is counted, and shown escaped.
    const counts = {
      ...{ pending: '\u000b5' as unknown as number, processing: 0, completed: 0 },
      ...{ failed: 0, cancelled: 0, expired: 0, total: 1 },
    };
    const title = renderBoard(new TaskBoard(), { url: 'u', look: boxed, now: 0, rows: 12, counts });
    expect(title.split('\n')[0]).toBe('proxy-cli watch u: \\x0b5 pending');
  });

  it('a running task shows the time it has run so far', () => {
    const board = new TaskBoard();
    const started = Date.parse(at(10));
    board.replace([
      summary({
        status: 'processing',
        started_at: at(10),
        duration_ms: 3,
        result: null,
        completed_at: null,
      }),
    ]);
    const frame = renderBoard(board, { url: 'u', look: boxed, now: started + 65_000, rows: 20 });
    expect(frame).toMatch(/processing .*1 m 05 s/);
  });
});

describe('--stats --watch off a terminal', () => {
  it('one line per read: the time, then the counts and the load', () => {
    const stats = {
      tasks: {
        pending: 1,
        processing: 2,
        completed: 3,
        failed: 4,
        cancelled: 5,
        expired: 6,
        total: 21,
      },
      queue_size: 1,
      in_flight: 2,
      long_tasks: 0,
    } as Stats;
    const line = renderStatsLine(stats, new Date('2026-01-02T10:00:00.000Z'));
    expect(line.split('\t')).toEqual([
      '2026-01-02T10:00:00.000Z',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '21',
      '1',
      '2',
      '0',
    ]);
    expect(STATS_LINE_FIELDS).toHaveLength(line.split('\t').length - 1);
  });
});

describe('a live view', () => {
  function terminal(columns = 40, rowsOnScreen = 10) {
    let text = '';
    const stream = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          text += String(chunk);
          done();
        },
      }),
      { isTTY: true, columns, rows: rowsOnScreen },
    );
    return { stream, text: () => text };
  }

  it('hides the cursor, redraws over the last frame, and gives the cursor back', () => {
    const term = terminal();
    const view = new LiveView(term.stream);
    view.render('one\ntwo');
    view.render('three');
    view.close();
    view.render('ignored');
    expect(term.text()).toBe('\u001b[?25lone\ntwo\n\u001b[2F\u001b[Jthree\n\u001b[?25h');
  });

  it('counts wrapped lines, so a wide frame is taken back whole', () => {
    expect(terminalRows('x'.repeat(80), 40)).toBe(2);
    expect(terminalRows(`\u001b[32m${'x'.repeat(40)}\u001b[39m`, 40)).toBe(1);
    const term = terminal(10, 10);
    const view = new LiveView(term.stream);
    view.render('0123456789abc\nz');
    view.render('y');
    expect(term.text()).toContain('\u001b[3F\u001b[J');
  });

  // A line of CJK characters was counted a row where it took two, so the next frame left one
  // behind on the screen.
  it('counts a wide character as two columns, and one that straddles the edge as wrapped', () => {
    expect(terminalRows('报'.repeat(20), 40)).toBe(1);
    expect(terminalRows('报'.repeat(21), 40)).toBe(2);
    // 39 columns, then a character that does not fit in the 40th: it starts the second row.
    expect(terminalRows(`x${'报'.repeat(39)}x`, 40)).toBe(3);
    const term = terminal(10, 10);
    const view = new LiveView(term.stream);
    view.render('报告报告报告\nz');
    view.render('y');
    expect(term.text()).toContain('\u001b[3F\u001b[J');
  });

  it('cuts a frame taller than the terminal, saying so', () => {
    const term = terminal(40, 5);
    new LiveView(term.stream).render(['a', 'b', 'c', 'd', 'e', 'f'].join('\n'));
    expect(term.text()).toBe('\u001b[?25la\nb\nc\n… (a taller terminal shows more)\n');
  });

  it('Output offers one on a terminal only, and --json writes JSON Lines', () => {
    const tty = terminal();
    const pipe = terminal();
    Object.assign(pipe.stream, { isTTY: false });
    const env = {};
    expect(
      new Output({ stdout: tty.stream, stderr: tty.stream, env }, { json: false, color: true })
        .canRedraw,
    ).toBe(true);
    expect(
      new Output({ stdout: pipe.stream, stderr: tty.stream, env }, { json: false, color: true })
        .canRedraw,
    ).toBe(false);
    const json = new Output(
      { stdout: pipe.stream, stderr: tty.stream, env },
      { json: true, color: true },
    );
    expect(json.canRedraw).toBe(false);
    json.jsonLine({ a: 1 });
    json.jsonLine({ b: 2 });
    expect(pipe.text()).toBe('{"a":1}\n{"b":2}\n');
    expect(json.wroteDocument).toBe(true);
  });
});
