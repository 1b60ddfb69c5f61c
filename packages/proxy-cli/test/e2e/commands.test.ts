import { writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyClient } from 'proxy-client';
import {
  type HealthBody,
  MAX_BODY_LIMIT_BYTES,
  type Stats,
  type Task,
  type TaskList,
} from 'proxy-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSI, jsonOf, runCli, type Stack, startStack, UUID } from './harness.js';

let stack: Stack;
let client: ProxyClient;
const cli = (...args: string[]) => runCli([...args, '--url', stack.url]);

beforeAll(async () => {
  stack = await startStack(['--max-concurrent', '2', '--num-workers', '2']);
  client = new ProxyClient({ baseUrl: stack.url });
});
afterAll(() => stack?.stop());

/** `text` in UTF-32, little- or big-endian. */
function utf32(text: string, order: 'LE' | 'BE'): Buffer {
  const chars = [...text];
  const bytes = Buffer.alloc(chars.length * 4);
  for (const [i, char] of chars.entries()) {
    const code = char.codePointAt(0) ?? 0;
    if (order === 'LE') bytes.writeUInt32LE(code, i * 4);
    else bytes.writeUInt32BE(code, i * 4);
  }
  return bytes;
}

async function finishedTask(path: string, body?: unknown, method = 'POST'): Promise<Task> {
  const id = await client.submitTask(path, body, { method });
  return client.waitForTask(id, { pollIntervalMs: 20 });
}

describe('--health', () => {
  it('plain: proxy and target, exit 0', async () => {
    const run = await cli('--health');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(stack.url);
    expect(run.stdout).toMatch(/ok/);
    expect(run.stdout).toMatch(/reachable/);
    expect(run.stdout).not.toContain(ANSI);
  });

  it('--json: the health body', async () => {
    const run = await cli('--health', '--json');
    expect(run.code).toBe(0);
    const health = jsonOf<HealthBody>(run);
    expect(health.status).toBe('ok');
    expect(health.target.reachable).toBe(true);
    expect(run.stderr).toBe('');
  });
});

describe('--stats', () => {
  it('piped: name<TAB>value lines, counts per status and the proxy capacity', async () => {
    const run = await cli('--stats');
    expect(run.code).toBe(0);
    for (const name of [
      'tasks.pending',
      'tasks.processing',
      'tasks.completed',
      'tasks.failed',
      'tasks.total',
      'queue_size',
      'in_flight',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^${name}\t\\d+$`, 'm'));
    }
    expect(run.stdout).toMatch(/^max_concurrent\t2$/m);
    // Behind a load balancer, which instance answered: its metrics' name, by default host:port.
    expect(run.stdout.split('\n')).toContain(`instance\t${hostname()}:${new URL(stack.url).port}`);
    expect(run.stdout).not.toMatch(/[│┌]/);
    expect(run.stdout).not.toContain(ANSI);
  });

  it('--json: the stats object', async () => {
    const run = await cli('--stats', '--json');
    expect(run.code).toBe(0);
    const stats = jsonOf<Stats>(run);
    expect(stats.max_concurrent).toBe(2);
    expect(stats.num_workers).toBe(2);
    expect(stats.tasks).toHaveProperty('total');
  });
});

describe('--submit', () => {
  it('plain: prints the task id on stdout and how to follow it on stderr', async () => {
    const run = await cli('--submit', 'api/function1', '--data', '{"param1":"value1"}');
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(new RegExp(`^${UUID.source}$`));
    // The command names the same proxy, so it works when pasted.
    const follow = `proxy-cli --url ${stack.url} --task-id ${id} --wait`;
    expect(run.stderr).toContain(`follow it with: ${follow}`);
    const followed = await runCli(follow.split(' ').slice(1));
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('completed');
    const task = await client.waitForTask(id, { pollIntervalMs: 20 });
    expect(task.result?.body).toMatchObject({ params: { param1: 'value1' } });
  });

  it('--json: task id and status URL', async () => {
    const run = await cli('--submit', 'api/function1', '--json');
    expect(run.code).toBe(0);
    const doc = jsonOf<{ task_id: string; status_url: string }>(run);
    expect(doc.task_id).toMatch(UUID);
    expect(doc.status_url).toBe(`${stack.url}/task/${doc.task_id}`);
  });

  it('--wait on a task that completes: the task, exit 0', async () => {
    const run = await cli(
      '--submit',
      'api/function1',
      '--data',
      '{"n":7,"delay_ms":300}',
      '--wait',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^status\tcompleted$/m);
    expect(run.stdout).toMatch(/^--\n\{\n/m);
    expect(run.stdout).toContain('"n": 7');
    expect(run.stderr).toMatch(/submitted POST \/api\/function1 as task/);
  });

  it('--wait --json on a task that completes: the Task document', async () => {
    const run = await cli('--submit', 'api/function1', '--data', '{"n":8}', '--wait', '--json');
    expect(run.code).toBe(0);
    const task = jsonOf<Task>(run);
    expect(task.status).toBe('completed');
    expect(task.result?.body).toMatchObject({ params: { n: 8 } });
    expect(run.stderr).toBe('');
  });

  it('--wait on a task that fails: the task, the reason on stderr, exit 1', async () => {
    const run = await cli('--submit', 'api/fail?status=500', '--method', 'GET', '--wait');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('failed');
    expect(run.stdout).toContain('500');
    expect(run.stderr).toMatch(/error: task .* failed: the target answered 500/);
  });

  it('--wait --json on a task that fails: one document (the task), exit 1', async () => {
    const run = await cli('--submit', 'api/fail?status=502', '--method', 'GET', '--wait', '--json');
    expect(run.code).toBe(1);
    const task = jsonOf<Task>(run);
    expect(task.status).toBe('failed');
    expect(task.result?.status_code).toBe(502);
    expect(run.stderr).toMatch(/failed: the target answered 502/);
  });

  it('--data @file sends the file', async () => {
    const file = join(tmpdir(), `proxy-cli-body-${process.pid}.json`);
    await writeFile(file, JSON.stringify({ from: 'file' }));
    const run = await cli('--submit', 'api/function1', '--data', `@${file}`, '--wait', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf<Task>(run).result?.body).toMatchObject({ params: { from: 'file' } });
  });

  it('--data @- reads stdin', async () => {
    const run = await runCli(
      ['--submit', 'api/function1', '--data', '@-', '--wait', '--json', '--url', stack.url],
      {
        stdin: '{"from":"stdin"}',
      },
    );
    expect(run.code).toBe(0);
    expect(jsonOf<Task>(run).result?.body).toMatchObject({ params: { from: 'stdin' } });
  });

  it('--data goes as typed, as application/json', async () => {
    const typed = '{ "spaced" :  [1, 2] }';
    const run = await cli('--submit', 'api/echo', '--data', typed, '--wait', '--json');
    expect(run.code).toBe(0);
    const echo = jsonOf<Task>(run).result?.body as {
      headers: Record<string, string>;
      body_base64: string;
    };
    expect(Buffer.from(echo.body_base64, 'base64').toString('utf8')).toBe(typed);
    expect(echo.headers['content-type']).toBe('application/json');
  });

  it('--header goes to the target, each as given', async () => {
    const run = await cli(
      'submit',
      'api/echo',
      '-H',
      'X-Trace-Id: abc 123',
      '--header',
      'Authorization: Bearer target-token',
      '--wait',
      '--json',
    );
    expect(run.code).toBe(0);
    const echo = jsonOf<Task>(run).result?.body as { headers: Record<string, string> };
    expect(echo.headers['x-trace-id']).toBe('abc 123');
    expect(echo.headers.authorization).toBe('Bearer target-token');
  });

  it('--data @file with bad JSON is a usage error', async () => {
    const file = join(tmpdir(), `proxy-cli-bad-${process.pid}.json`);
    await writeFile(file, '{not json');
    const run = await cli('--submit', 'api/function1', '--data', `@${file}`);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--data: ${file} is not valid JSON`);
    expect(run.stderr).toContain(
      `hint: --data sends JSON; see where it breaks with: jq . < ${file}`,
    );
  });

  it('--data @file saved with a byte order mark sends the JSON after it, and says so', async () => {
    const file = join(tmpdir(), `proxy-cli-bom-${process.pid}.json`);
    await writeFile(file, `\uFEFF{"from": "notepad"}`);
    const run = await cli('--submit', 'api/echo', '--data', `@${file}`, '--wait');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`--data: ${file} starts with a byte order mark; it was left out`);
    const json = await cli('--submit', 'api/echo', '--data', `@${file}`, '--wait', '--json');
    const echo = jsonOf<Task>(json).result?.body as { body_base64: string };
    expect(Buffer.from(echo.body_base64, 'base64').toString('utf8')).toBe('{"from": "notepad"}');
  });

  it('--data @file that is not UTF-8 is a usage error, not bytes silently replaced', async () => {
    const file = join(tmpdir(), `proxy-cli-latin1-${process.pid}.json`);
    await writeFile(file, Buffer.from('{"a":"\xff"}', 'latin1'));
    const before = (await client.getStats()).tasks.total;
    const run = await cli('--submit', 'api/function1', '--data', `@${file}`);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--data: ${file} is not UTF-8 text, and JSON must be`);
    expect(run.stderr).toMatch(/hint: convert it first/);
    expect((await client.getStats()).tasks.total).toBe(before);
    const piped = await runCli(['--submit', 'api/function1', '--data', '@-', '--url', stack.url], {
      stdin: Buffer.from('{"a":"\xff"}', 'latin1'),
    });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('--data: stdin is not UTF-8 text, and JSON must be');
  });

  // Notepad's "Unicode" is UTF-16: the hint said to convert from latin1, which garbles it.
  it.each([
    [
      'little-endian',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', 'utf16le')]),
    ],
    [
      'big-endian',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{"a":1}', 'utf16le').swap16()]),
    ],
  ])(
    '--data in UTF-16 (%s, with its BOM): named as such, and how to convert it',
    async (_, bytes) => {
      const file = join(tmpdir(), `proxy-cli-utf16-${process.pid}.json`);
      await writeFile(file, bytes);
      const before = (await client.getStats()).tasks.total;
      const run = await cli('--submit', 'api/function1', '--data', `@${file}`);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `error: --data: ${file} is UTF-16 text (it starts with a UTF-16 byte order mark), and JSON must be UTF-8\n`,
      );
      expect(run.stderr).toContain(`hint: convert it first: iconv -f UTF-16 -t UTF-8 ${file} >`);
      expect(run.stderr).not.toContain('latin1');
      const piped = await runCli(
        ['--submit', 'api/function1', '--data', '@-', '--url', stack.url],
        {
          stdin: bytes,
        },
      );
      expect(piped.code).toBe(2);
      expect(piped.stderr).toContain('error: --data: stdin is UTF-16 text');
      expect(piped.stderr).toContain(
        'hint: convert it first: pipe it through iconv -f UTF-16 -t UTF-8\n',
      );
      expect((await client.getStats()).tasks.total).toBe(before);
    },
  );

  // UTF-16 without a byte order mark read as UTF-8 and failed JSON.parse with a raw NUL in the
  // message; UTF-32LE's mark was called UTF-16, and the iconv in the hint garbled it.
  const NULS = 'NUL bytes beside its first character';
  it.each([
    ['UTF-16LE without a mark', Buffer.from('{"a":1}', 'utf16le'), 'UTF-16LE', NULS],
    ['UTF-16BE without a mark', Buffer.from('{"a":1}', 'utf16le').swap16(), 'UTF-16BE', NULS],
    ['UTF-32LE without a mark', utf32('{"a":1}', 'LE'), 'UTF-32LE', NULS],
    ['UTF-32BE without a mark', utf32('{"a":1}', 'BE'), 'UTF-32BE', NULS],
    [
      'UTF-32LE with its mark',
      utf32('\uFEFF{"a":1}', 'LE'),
      'UTF-32',
      'it starts with a UTF-32 byte order mark',
    ],
    [
      'UTF-32BE with its mark',
      utf32('\uFEFF{"a":1}', 'BE'),
      'UTF-32',
      'it starts with a UTF-32 byte order mark',
    ],
  ])(
    '--data in %s: named as such, and the iconv that converts it',
    async (_, bytes, name, sign) => {
      const file = join(tmpdir(), `proxy-cli-wide-${process.pid}.json`);
      await writeFile(file, bytes);
      const before = (await client.getStats()).tasks.total;
      const run = await cli('--submit', 'api/function1', '--data', `@${file}`);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `error: --data: ${file} is ${name} text (${sign}), and JSON must be UTF-8\n`,
      );
      expect(run.stderr).toContain(`hint: convert it first: iconv -f ${name} -t UTF-8 ${file} >`);
      expect(run.stderr).not.toContain('\0');
      expect((await client.getStats()).tasks.total).toBe(before);
    },
  );

  it('--data @missing-file is a usage error', async () => {
    const run = await cli('--submit', 'api/function1', '--data', '@/nonexistent/body.json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--data: cannot read \/nonexistent\/body.json/);
    expect(run.stderr).toMatch(/hint: name a readable file/);
  });

  // Hostile-caller pass: `--data @/dev/zero` read on until the memory ran out (6 GB in 20 s).
  it('--data past the largest body a proxy takes is a usage error, from a file or stdin', async () => {
    const before = await client.getStats();
    const run = await cli('--submit', 'api/function1', '--data', '@/dev/zero');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'error: --data: /dev/zero holds more than 256 MiB, more than any proxy takes (its --body-limit is at most 256mb)',
    );
    const piped = await runCli(['--submit', 'api/function1', '--data', '@-', '--url', stack.url], {
      stdin: Buffer.alloc(MAX_BODY_LIMIT_BYTES + 1, ' '),
    });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('error: --data: stdin holds more than 256 MiB');
    expect((await client.getStats()).tasks.total).toBe(before.tasks.total);
  });

  it("refuses a path that would leave api/, and the proxy's own routes are untouched", async () => {
    const before = await client.getStats();
    const run = await cli('--submit', 'api/../tasks/cleanup?max_age_hours=0', '--method', 'DELETE');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--submit: The path must stay under api/: '.' and '..' segments");
    expect((await client.getStats()).tasks.total).toBe(before.tasks.total);
  });
});

describe('--url under /api/', () => {
  it.each([['stats'], ['health'], ['list']])(
    '%s: exit 5 and the hint to drop /api',
    async (command) => {
      const run = await runCli([command, '--url', `${stack.url}/api`]);
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('does not answer like a proxy-server');
      expect(run.stderr).toMatch(/hint: drop \/api from --url/);
    },
  );
});

// First-hour pass: --url copied from the dashboard's address bar was told to point at the proxy
// "not at its target", though it was the proxy's own page.
describe("--url at one of the proxy's own routes", () => {
  const SOME_ID = '00000000-0000-4000-8000-000000000078';
  it.each([
    ['stats', '/ui', '/ui'],
    ['list', '/ui/', '/ui'],
    ['health', '/ui/index.html', '/ui/index.html'],
    ['stats', '/docs', '/docs'],
    ['stats', '/openapi.json', '/openapi.json'],
    ['stats', '/metrics', '/metrics'],
    ['stats', '/health', '/health'],
    ['health', '/stats', '/stats'],
    ['stats', '/tasks', '/tasks'],
    ['stats', `/task/${SOME_ID}`, `/task/${SOME_ID}`],
  ])('%s --url <proxy>%s: exit 5 and the hint to drop it', async (command, path, route) => {
    const run = await runCli([command, '--url', `${stack.url}${path}`]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('does not answer like a proxy-server');
    expect(run.stderr).toContain(
      `hint: drop ${route} from --url (or PROXY_URL): it is the proxy's own ${route}, not its base URL; use --url ${stack.url}\n`,
    );
  });
});

describe('--task-id', () => {
  it('plain: a completed task, exit 0', async () => {
    const task = await finishedTask('api/function1', { param1: 'value1' });
    const run = await cli('--task-id', task.task_id);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(task.task_id);
    expect(run.stdout).toContain('completed');
    expect(run.stdout).toContain('"param1": "value1"');
  });

  it('--json: the Task', async () => {
    const task = await finishedTask('api/function1');
    const run = await cli('--task-id', task.task_id, '--json');
    expect(run.code).toBe(0);
    expect(jsonOf<Task>(run)).toMatchObject({ task_id: task.task_id, status: 'completed' });
  });

  it('a failed task exits 1, with or without --wait', async () => {
    const task = await finishedTask('api/fail?status=503', undefined, 'GET');
    for (const extra of [[], ['--wait']]) {
      const run = await cli('--task-id', task.task_id, ...extra);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/failed: the target answered 503/);
    }
  });

  it('--wait on a running task: status lines on stderr (not a terminal), then the task', async () => {
    // Long enough to be still running when the CLI, starting on a busy machine, first reads it.
    const id = await client.submitTask('api/function1', { delay_ms: 2000 });
    const run = await cli('--task-id', id, '--wait', '--poll-interval', '0.05');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`waiting for task ${id} \\((pending|processing)\\)`));
    expect(run.stderr).toMatch(new RegExp(`task ${id}: completed after`));
    expect(run.stdout).toContain('completed');
  });

  it('an unknown id exits 4 and says so', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const run = await cli('--task-id', missing);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`no task ${missing} on the proxy at ${stack.url}`);
    expect(run.stderr).toMatch(/hint: .*--list-tasks/);
  });

  it('an unknown id with --wait --json: exit 4 and an error document', async () => {
    const run = await cli('--task-id', '00000000-0000-4000-8000-000000000001', '--wait', '--json');
    expect(run.code).toBe(4);
    expect(jsonOf(run)).toMatchObject({
      success: false,
      error: { code: 'task_not_found', exit_code: 4 },
    });
  });
});

describe('--list-tasks', () => {
  it('piped: a tab-separated row per task, no header; the page on stderr', async () => {
    const task = await finishedTask('api/function1');
    const run = await cli('--list-tasks');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `${task.task_id}\tcompleted\tPOST\t/api/function1\t${task.created_at}\t`,
    );
    expect(run.stdout.split('\n')[0]).toMatch(UUID);
    expect(run.stderr).toMatch(/^tasks 1–\d+ of \d+/);
  });

  it('--json: the task list', async () => {
    const run = await cli('--list-tasks', '--json', '--limit', '2');
    expect(run.code).toBe(0);
    const list = jsonOf<TaskList>(run);
    expect(list.tasks).toHaveLength(2);
    expect(list.limit).toBe(2);
    expect(list.total).toBeGreaterThan(2);
  });

  it('--status, --limit and --offset reach the proxy', async () => {
    const all = jsonOf<TaskList>(await cli('--list-tasks', '--status', 'failed', '--json'));
    expect(all.tasks.length).toBeGreaterThan(1);
    expect(all.tasks.every((t) => t.status === 'failed')).toBe(true);
    const second = jsonOf<TaskList>(
      await cli('--list-tasks', '--status', 'failed', '--limit', '1', '--offset', '1', '--json'),
    );
    expect(second.tasks.map((t) => t.task_id)).toEqual([all.tasks[1]?.task_id]);
  });
});

describe('--cleanup', () => {
  // Last in this file: it removes the finished tasks the tests above made.
  it('plain and --json: how many finished tasks were removed', async () => {
    const plain = await cli('--cleanup', '0');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^removed \d+ finished tasks? older than 0 hours\n$/);
    await finishedTask('api/function1');
    const run = await cli('--cleanup', '0', '--json');
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toEqual({ removed: 1, max_age_hours: 0 });
    expect(jsonOf<TaskList>(await cli('--list-tasks', '--json')).total).toBe(0);
  });
});
