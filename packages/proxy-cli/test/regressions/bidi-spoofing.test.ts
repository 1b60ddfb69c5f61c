import { execFileSync } from 'node:child_process';
import { type RedisServer, startRedis } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli } from '../e2e/harness.js';
import { screenAtExit, startHostileProxy } from '../e2e/hostile-proxy.js';
import { runInTerminal } from '../e2e/tmux.js';
import { makeTask } from '../fixtures.js';
import {
  expectRefusalShown,
  finishedGet,
  type ProxyBeforeText,
  startProxyBeforeText,
} from './hostile-target.js';

// A path with RIGHT-TO-LEFT OVERRIDE reached the terminal raw, so `/api/x<U+202E>gnp.exe` read
// as `/api/xexe.png` ("Trojan Source"), in the task view, the list and the watch board alike; a
// body or an error message could turn its text around the same way. Control characters were
// already shown as `\xNN`; these bidirectional ones (and the zero-width ones, which hide text
// and threw the table's widths off by one each) went through untouched.
// proxy-server itself refuses such a path unencoded and keeps it as `%E2%80%AE`; but a task
// comes from whatever the store holds, and a Redis store is shared with anyone who can write to
// it: the test writes the path there, as such a writer (or a proxy other than proxy-server) would.
const PATH = '/api/x\u202egnp.exe';
const SHOWN_PATH = '/api/x\\u202egnp.exe';
const BODY = 'size \u2066\u2067\u2069\u200f ok\u200b\ufeff';
const SHOWN_BODY = 'size \\u2066\\u2067\\u2069\\u200f ok\\u200b\\ufeff';
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

let redis: RedisServer;
let stack: ProxyBeforeText;
let id: string;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startProxyBeforeText(BODY, ['--store', redis.url, '--redis-prefix', 'bidi']);
  id = await finishedGet(stack.client, 'api/x');
  execFileSync('redis-cli', ['-p', String(redis.port), 'HSET', `bidi:task:${id}`, 'p', PATH]);
});
afterAll(async () => {
  await stack?.stop();
  await redis?.close();
});

describe('bidirectional and zero-width characters from outside the CLI', () => {
  it("a task's path and body show them escaped on a terminal", async () => {
    const screen = await screenAtExit(['task', id, '--url', stack.proxy.url], 'the task');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).toContain(SHOWN_BODY);
    expect(screen).not.toMatch(INVISIBLE);
  });

  it('the task list shows them escaped, its box still square', async () => {
    const screen = await screenAtExit(['list', '--url', stack.proxy.url], 'the list');
    expect(screen).toContain('[exit 0]');
    const table = screen.split('\n').filter((line) => /^[┌│├└]/.test(line));
    const row = table.find((line) => line.includes(id));
    expect(row).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).not.toMatch(INVISIBLE);
    expect(new Set(table.map((line) => [...line].length)).size, screen).toBe(1);
  });

  it('the watch board shows them escaped', async () => {
    const term = runInTerminal(['watch', '--url', stack.proxy.url]);
    const screen = await term.waitForScreen((s) => s.includes(id), 'the board');
    expect(screen).toContain(`GET ${SHOWN_PATH}`);
    expect(screen).not.toMatch(INVISIBLE);
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });

  it('piped and with --json, the path and body keep their characters', async () => {
    const piped = await runCli(['task', id, '--url', stack.proxy.url]);
    expect(piped.stdout).toContain(`path\t${PATH}\n`);
    expect(piped.stdout.endsWith(`--\n${BODY}\n`)).toBe(true);
    const listed = await runCli(['list', '--url', stack.proxy.url]);
    expect(listed.stdout).toContain(`\tGET\t${PATH}\t`);
    const json = jsonOf<{ path: string; result: { body: string } }>(
      await runCli(['task', id, '--json', '--url', stack.proxy.url]),
    );
    expect(json.path).toBe(PATH);
    expect(json.result.body).toBe(BODY);
  });

  it("a proxy's error message shows them escaped on a terminal", async () => {
    await expectRefusalShown(`no ${PATH}`, `no ${SHOWN_PATH}`);
  });
});

// A proxy other than proxy-server (or one in the middle) answered task ids, times, statuses and
// stats fields holding bidirectional and invisible characters, and the CLI printed them raw: only
// the path, the body and messages were escaped. The SDK checks only that a task's task_id and
// status are strings (a list's tasks and the stats not at all). The line and paragraph separators,
// the word joiner, and the other format characters (Cf) past the bidi and zero-width few went
// through raw wherever they came.
const HOSTILE_ID = '7f3c\u202e9a1b';
const SHOWN_ID = '7f3c\\u202e9a1b';
const HOSTILE_STATUS = 'ready\u2060\u202e';
const SHOWN_STATUS = 'ready\\u2060\\u202e';
const HOSTILE_TIME = '2026-01-02T10:00:00Z\u2028x';
const SHOWN_TIME = '2026-01-02T10:00:00Z\\u2028x';
const FORMAT_CHARS = 'a\u2029b\u180ec\u2061d\u206ae\u{e0041}';
const SHOWN_FORMAT_CHARS = 'a\\u2029b\\u180ec\\u2061d\\u206ae\\u{e0041}';
const HIDDEN = /[\p{Cf}\u2028\u2029]/u;

// Sent as JSON: fields no proxy-server sends, which the wire types rightly refuse.
const hostileTask: Record<string, unknown> = {
  ...makeTask({
    task_id: HOSTILE_ID,
    created_at: HOSTILE_TIME,
    started_at: HOSTILE_TIME,
    completed_at: HOSTILE_TIME,
    retry_of: HOSTILE_ID,
    result: null,
  }),
  // A status the CLI does not know, so the task is not taken as finished.
  status: HOSTILE_STATUS,
  error: { code: `boom${FORMAT_CHARS}`, message: FORMAT_CHARS },
};

const hostileHealth = {
  success: true,
  status: HOSTILE_STATUS,
  target: { reachable: true },
  store: { kind: `sqlite${FORMAT_CHARS}`, available: true },
};

const hostileStats = {
  tasks: { pending: 0, processing: 0, completed: 1, failed: 0, cancelled: 0, expired: 0, total: 1 },
  ...{ queue_size: 0, max_queue_size: 10, max_concurrent: 1, num_workers: 1, in_flight: 0 },
  ...{ long_tasks: 0, avg_processing_ms: null, uptime_s: 5, target: 'http://t' },
  ...{ store: `sqlite${FORMAT_CHARS}`, started_at: HOSTILE_TIME, version: `1.0${HOSTILE_ID}` },
};

/** A fake proxy answering every read with the fields above; `stats: false`: `/stats` answers 500. */
function startLiar({ stats = true } = {}): Promise<string> {
  return startHostileProxy({
    task: hostileTask,
    health: hostileHealth,
    stats: stats ? hostileStats : undefined,
    submission: { task_id: HOSTILE_ID, status: HOSTILE_STATUS },
  });
}

describe("a hostile proxy's ids, times, statuses and codes", () => {
  it('the task view shows them escaped on a terminal', async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['task', 'some-id', '--url', url], 'the task');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(SHOWN_ID);
    expect(screen).toContain(SHOWN_STATUS);
    expect(screen).toContain(SHOWN_TIME);
    expect(screen).toContain(SHOWN_FORMAT_CHARS);
    expect(screen).not.toMatch(HIDDEN);
  });

  it('the task list shows them escaped, its box still square', async () => {
    const url = await startLiar();
    // Wide enough for the error code's column, which a narrower terminal leaves out.
    const screen = await screenAtExit(['list', '--url', url], 'the list', { width: 200 });
    expect(screen).toContain('[exit 0]');
    const table = screen.split('\n').filter((line) => /^[┌│├└]/.test(line));
    const row = table.find((line) => line.includes(SHOWN_ID));
    expect(row).toContain(SHOWN_STATUS);
    expect(row).toContain(`boom${SHOWN_FORMAT_CHARS}`);
    expect(screen).not.toMatch(HIDDEN);
    expect(new Set(table.map((line) => [...line].length)).size, screen).toBe(1);
  });

  it('the stats show them escaped', async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['stats', '--url', url], 'the stats');
    expect(screen).toContain('[exit 0]');
    expect(screen).toContain(`sqlite${SHOWN_FORMAT_CHARS}`);
    expect(screen).toContain(`1.0${SHOWN_ID}`);
    expect(screen).toContain(SHOWN_TIME);
    expect(screen).not.toMatch(HIDDEN);
  });

  it("the watch board's table and title show them escaped", async () => {
    const url = await startLiar({ stats: false });
    const term = runInTerminal(['watch', '--url', url]);
    const screen = await term.waitForScreen((s) => s.includes('Ctrl-C to stop'), 'the board');
    expect(screen).toContain(SHOWN_ID);
    expect(screen).toContain(`1 ${SHOWN_STATUS}`);
    expect(screen).not.toMatch(HIDDEN);
    term.sendKeys('C-c');
    await term.waitForScreen((s) => s.includes('[exit 130]'), 'the CLI to stop');
  });

  it('a submission prints the id and status escaped, stdout and stderr alike', async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['submit', 'api/x', '--url', url], 'the submission');
    expect(screen).toContain('[exit 0]');
    expect(screen.split('\n')).toContain(SHOWN_ID);
    // Written so that it pastes back as the id (pasteable-hints.test.ts).
    expect(screen).toContain(`--task-id $'${SHOWN_ID}' --wait`);
    expect(screen).not.toMatch(HIDDEN);
    const piped = await runCli(['submit', 'api/x', '--url', url]);
    expect(piped.stdout).toBe(`${HOSTILE_ID}\n`);
  });

  it('cancel, retry and health print them escaped', async () => {
    const url = await startLiar();
    for (const args of [['cancel', 'some-id'], ['retry', 'some-id'], ['health']]) {
      const screen = await screenAtExit([...args, '--url', url], args[0] ?? '');
      expect(screen, args[0]).toContain(args[0] === 'health' ? SHOWN_STATUS : SHOWN_ID);
      expect(screen, args[0]).not.toMatch(HIDDEN);
    }
  });

  it('the error line of a wait on a status the CLI does not know shows it escaped', async () => {
    const url = await startLiar();
    const screen = await screenAtExit(['task', 'some-id', '--wait', '--url', url], 'the error');
    expect(screen).toContain(`error: `);
    expect(screen).toContain(SHOWN_STATUS);
    expect(screen).not.toMatch(HIDDEN);
  });
});
