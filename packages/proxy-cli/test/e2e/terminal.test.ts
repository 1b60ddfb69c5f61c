import { ProxyClient } from 'proxy-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './harness.js';
import { runInTerminal, SPINNER } from './tmux.js';

// proxy-cli on a real terminal (tmux): the spinner, the colours and Ctrl-C as a person meets them.
let stack: Stack;
let client: ProxyClient;

beforeAll(async () => {
  stack = await startStack();
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

describe('on a terminal', () => {
  it('--submit --wait: the id at once, a spinner while the task runs, then the task in colour', async () => {
    const term = runInTerminal([
      '--submit',
      'api/function1',
      '--data',
      '{"delay_ms":2000}',
      '--wait',
      '--url',
      stack.url,
    ]);
    const waiting = await term.waitForScreen(
      (s) => SPINNER.test(s) && s.includes('processing ·'),
      'the spinner while the task runs',
    );
    const id = waiting.match(/submitted POST \/api\/function1 as task ([0-9a-f-]{36})/)?.[1];
    expect(waiting).toMatch(new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] processing · \\d+(\\.\\d)? m?s · task ${id}`));

    const done = await term.waitForScreen((s) => s.includes('[exit 0]'), 'the CLI to finish');
    expect(done).not.toMatch(SPINNER);
    expect(done).toMatch(/status\s+│ completed/);
    expect(done).toContain('Result body');
    expect(term.screen(true)).toContain('\u001b[32mcompleted');
  });

  it('Ctrl-C while waiting: exit 130, the task goes on, and the command to resume', async () => {
    const id = await client.submitTask('api/long?seconds=5', undefined, { method: 'GET' });
    const term = runInTerminal(['--task-id', id, '--wait', '--url', stack.url]);
    const waiting = await term.waitForScreen(
      (s) => SPINNER.test(s) && s.includes('processing ·'),
      'the spinner on a processing task',
    );
    expect(waiting).toMatch(new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] processing · \\d+(\\.\\d)? m?s · task ${id}`));
    term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
    expect(screen).toContain(`error: stopped waiting; task ${id} goes on on the proxy`);
    expect(screen).toContain(
      `hint: resume waiting with: proxy-cli --url ${stack.url} --task-id ${id} --wait`,
    );
    expect(screen).not.toMatch(SPINNER);
    expect((await client.getTask(id)).status).toBe('processing');
  });

  it('--task-id --wait on a queued task: its place in the queue and when it should start', async () => {
    const capped = await startStack(['--max-concurrent', '1', '--num-workers', '1']);
    try {
      const cappedClient = new ProxyClient({ baseUrl: capped.url });
      const blocker = await cappedClient.submitTask('api/long?seconds=30', undefined, {
        method: 'GET',
      });
      const id = await cappedClient.submitTask('api/function1');
      const term = runInTerminal(['--task-id', id, '--wait', '--url', capped.url]);
      const waiting = await term.waitForScreen(
        (s) => SPINNER.test(s) && s.includes('in queue'),
        'the spinner on a queued task',
      );
      expect(waiting).toMatch(
        new RegExp(
          `pending · \\d+(\\.\\d)? m?s · task ${id} · #1 in queue · starts (in \\d+ s|any moment)`,
        ),
      );
      term.sendKeys('C-c');
      await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
      await cappedClient.cancelTask(blocker);
    } finally {
      await capped.stop();
    }
  });

  it('--stats and --list-tasks draw tables; NO_COLOR is honoured on a terminal', async () => {
    await client.waitForTask(await client.submitTask('api/function1'), { pollIntervalMs: 20 });
    const stats = runInTerminal(['--stats', '--url', stack.url]);
    const screen = await stats.waitForScreen((s) => s.includes('[exit 0]'), '--stats');
    expect(screen).toMatch(/┌─+┬─+┐/);
    expect(stats.screen(true)).toContain('\u001b[32mcompleted');

    const list = runInTerminal(['--list-tasks', '--url', stack.url]);
    const listed = await list.waitForScreen((s) => s.includes('[exit 0]'), '--list-tasks');
    expect(listed).toMatch(/│ task id\s+│ status\s+│ request/);

    const noColor = runInTerminal(['--stats', '--url', stack.url], { env: { NO_COLOR: '1' } });
    await noColor.waitForScreen((s) => s.includes('[exit 0]'), '--stats with NO_COLOR');
    expect(noColor.screen(true)).not.toContain('\u001b[32m');
  });

  it('--watch draws a live table that follows the tasks; Ctrl-C leaves it, exit 130', async () => {
    const term = runInTerminal(['watch', '--url', stack.url], { height: 30 });
    await term.waitForScreen((s) => s.includes('Ctrl-C to stop'), 'the first frame');
    // Submit until the table shows one (its stream is then connected), then follow one more.
    const submitted: string[] = [];
    let submitting = false;
    await term.waitForScreen((s) => {
      if (submitted.some((id) => s.includes(id))) return true;
      if (!submitting) {
        submitting = true;
        void client
          .submitTask('api/function1')
          .then((id) => submitted.push(id))
          .catch(() => {})
          .finally(() => {
            submitting = false;
          });
      }
      return false;
    }, 'a task submitted after the start');
    const id = await client.submitTask('api/function1', { delay_ms: 1500 });
    const running = await term.waitForScreen(
      (s) => new RegExp(`${id} │ processing`).test(s),
      'the task to show as processing',
    );
    expect(running).toMatch(/^proxy-cli watch http:\/\/127\.0\.0\.1:\d+: /m);
    expect(running).toMatch(/│ task id\s+│ status\s+│ request/);
    await term.waitForScreen((s) => new RegExp(`${id} │ completed`).test(s), 'it to complete');
    expect(term.screen(true)).toContain('\u001b[32mcompleted');
    term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
    expect(screen).not.toContain('error:');
    expect(screen).toContain(id);
  });

  it('--stats --watch redraws the stats in place', async () => {
    const term = runInTerminal(['stats', '--watch', '--poll-interval', '0.3', '--url', stack.url]);
    const first = await term.waitForScreen((s) => /│ total\s+│\s+\d+ │/.test(s), 'the stats');
    const total = (screen: string) => Number(/│ total\s+│\s+(\d+) │/.exec(screen)?.[1]);
    await client.waitForTask(await client.submitTask('api/function1'), { pollIntervalMs: 20 });
    const later = await term.waitForScreen((s) => total(s) > total(first), 'a higher total');
    // Redrawn in place: one table of counts on the screen, not one per read.
    expect(later.match(/│ status\s+│ tasks │/g)).toHaveLength(1);
    expect(later).toMatch(/read .*, every 300 ms · Ctrl-C to stop/);
    term.sendKeys('C-c');
    const screen = await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
    expect(screen).not.toContain('error:');
  });
});

describe('--watch on a proxy holding more tasks than the table loads', () => {
  let busy: Stack;
  beforeAll(async () => {
    busy = await startStack(['--max-queue-size', '500', '--max-concurrent', '20']);
  });
  afterAll(() => busy?.stop());

  it("the title's counts are the proxy's, not those of the 200 tasks the table read", async () => {
    const busyClient = new ProxyClient({ baseUrl: busy.url });
    const submitted = 230;
    const ids: string[] = [];
    for (let batch = 0; batch < submitted / 10; batch++) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => busyClient.submitTask('api/function1')),
        )),
      );
    }
    await Promise.all(ids.map((id) => busyClient.waitForTask(id, { pollInterval: 200 })));
    expect((await busyClient.getStats()).tasks.completed).toBe(submitted);

    const term = runInTerminal(['watch', '--url', busy.url]);
    const title = /^proxy-cli watch http:\/\/127\.0\.0\.1:\d+: (.*)$/m;
    const screen = await term.waitForScreen((s) => title.test(s), 'the first frame');
    expect(title.exec(screen)?.[1]).toBe(`${submitted} completed`);
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  }, 60_000);

  it('a full table still leaves room for its foot, which says how many rows it shows', async () => {
    const term = runInTerminal(['watch', '--url', busy.url], { height: 20 });
    const screen = await term.waitForScreen((s) => s.includes('Ctrl-C to stop'), 'the foot');
    expect(screen).toMatch(
      /^the \d+ newest of 200 · live from the proxy's events · Ctrl-C to stop$/m,
    );
    expect(screen).not.toContain('a taller terminal shows more');
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });
});
