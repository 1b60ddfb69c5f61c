import { describe, expect, it } from 'vitest';
import { startFakeProxy } from '../e2e/hostile-proxy.js';
import { runInTerminal } from '../e2e/tmux.js';
import { makeTask } from '../fixtures.js';

// A terminal with TERM=dumb cannot redraw, so `--watch` and `--stats --watch` write it the lines
// meant for pipes, which keep a proxy's bytes: a hostile proxy's text reached that terminal raw,
// ESC]0;…BEL retitling the window and invisible characters hiding or reordering what was shown.
const HOSTILE = '\u001b]0;pwned\u0007x\u202e1';
const SHOWN = '\\x1b]0;pwned\\x07x\\u202e1';
const HIDDEN = /[\p{Cf}\u2028\u2029]/u;

const task = { ...makeTask(), path: `/api/${HOSTILE}`, duration_ms: `5${HOSTILE}` };
const stats = {
  tasks: {
    ...{ pending: `3${HOSTILE}`, processing: 0, completed: 0, failed: 0, cancelled: 0, expired: 0 },
    total: 3,
  },
  ...{ queue_size: 3, max_queue_size: 10, max_concurrent: 1, num_workers: 1 },
  ...{ in_flight: 0, long_tasks: 0, avg_processing_ms: null, uptime_s: 5, target: 'http://t' },
};

/** A proxy whose event stream sends one `created` event for `task`, and whose stats are hostile. */
function startProxy(): Promise<string> {
  return startFakeProxy((req, res) => {
    if (req.url?.startsWith('/events')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: created\nid: 1\ndata: ${JSON.stringify(task)}\n\n`);
      return;
    }
    const list = { tasks: [], total: 0, limit: 20, offset: 0 };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: true, data: req.url?.startsWith('/tasks') ? list : stats }));
  });
}

const dumb = { env: { TERM: 'dumb' }, width: 200 };

describe('watching on a terminal that cannot redraw (TERM=dumb)', () => {
  it("--watch shows an event's fields escaped", async () => {
    const terminal = runInTerminal(['watch', '--url', await startProxy()], dumb);
    const screen = await terminal.waitForScreen((s) => s.includes('created'), 'the event line');
    expect(screen).toContain(`/api/${SHOWN}`);
    expect(screen).toContain(`5${SHOWN}`);
    expect(screen).not.toMatch(HIDDEN);
  });

  it('--stats --watch shows the counts escaped', async () => {
    const terminal = runInTerminal(['stats', '--watch', '--url', await startProxy()], dumb);
    // tmux shows a tab as spaces.
    const screen = await terminal.waitForScreen((s) => /Z\s+3/.test(s), 'the stats line');
    expect(screen).toMatch(new RegExp(`Z\\s+3${SHOWN.replaceAll('\\', '\\\\')}`));
    expect(screen).not.toMatch(HIDDEN);
  });
});
