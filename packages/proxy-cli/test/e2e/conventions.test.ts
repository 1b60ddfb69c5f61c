import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Stats, Task } from 'proxy-client/wire';
import { proxyCliBin } from 'test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, type Stack, startStack, UUID } from './harness.js';

// The conventions a user brings from other CLIs: commands, completion, errors that say what to
// fix. The built CLI against a real proxy-server in front of slow-target.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const cli = (...args: string[]) => runCli([...args, '--url', stack.url]);

describe('commands', () => {
  it('stats, list and health answer as their flags do', async () => {
    for (const [command, flag] of [
      ['stats', '--stats'],
      ['list', '--list-tasks'],
      ['health', '--health'],
    ] as const) {
      const [byCommand, byFlag] = await Promise.all([cli(command, '--json'), cli(flag, '--json')]);
      expect(byCommand.code, command).toBe(0);
      expect(Object.keys(jsonOf(byCommand)).sort()).toEqual(Object.keys(jsonOf(byFlag)).sort());
    }
    expect(jsonOf<Stats>(await cli('stats', '--json')).max_concurrent).toBeGreaterThan(0);
  });

  it('submit then wait <id>: the id, then the finished task', async () => {
    const submitted = await cli('submit', 'api/function1', '--data', '{"n":3,"delay_ms":200}');
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(new RegExp(`^${UUID.source}$`));
    const waited = await cli('wait', id, '--json');
    expect(waited.code).toBe(0);
    expect(jsonOf<Task>(waited)).toMatchObject({ task_id: id, status: 'completed' });
  });

  it('an unknown command suggests the nearest one, exit 2', async () => {
    const run = await cli('stat');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown command 'stat'. Did you mean stats?");
    expect(run.stderr).toMatch(/hint: commands: stats, health, list/);
  });
});

describe('errors that say what to fix', () => {
  it('--json after -- is an argument, not the flag: the usage error is plain', async () => {
    const run = await runCli(['stats', '--url', stack.url, '--', '--json']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: .*'stats'/);
  });

  // Newcomer pass: PROXY_ULR=... proxy-cli stats went to http://localhost:8080 without a word
  // about the variable, as proxy-server once ignored a misspelt PROXY_ setting of its own.
  it('a PROXY_ variable near PROXY_URL or PROXY_API_KEY is named in a warning', async () => {
    const run = await runCli(['stats', '--json'], {
      env: { PROXY_ULR: stack.url, proxy_api_kye: 'k', PROXY_TARGET_HOST: '127.0.0.1' },
    });
    expect(run.stderr).toContain(
      'warning: PROXY_ULR is not read by proxy-cli and is ignored; did you mean PROXY_URL?',
    );
    expect(run.stderr).toContain(
      'warning: proxy_api_kye is not read by proxy-cli and is ignored; did you mean PROXY_API_KEY?',
    );
    // proxy-server's settings, set in the same shell, are none of proxy-cli's business.
    expect(run.stderr).not.toContain('PROXY_TARGET_HOST');
    const quiet = await cli('stats', '--json');
    expect(quiet.stderr).toBe('');
  });

  it('a task id that is not a UUID is invalid_task_id, not "no task"', async () => {
    const run = await cli('task', 'not-a-uuid', '--json');
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("error: 'not-a-uuid' is not a task id");
    expect(run.stderr).not.toContain('no task');
    expect(jsonOf(run)).toMatchObject({
      error: { code: 'invalid_task_id', exit_code: 4, task_id: 'not-a-uuid' },
    });
  });

  it('an unknown task id is a field of the error document', async () => {
    const missing = '00000000-0000-4000-8000-000000000017';
    const run = await cli('task', missing, '--json');
    expect(run.code).toBe(4);
    expect(jsonOf(run)).toMatchObject({ error: { code: 'task_not_found', task_id: missing } });
  });

  it('--url at the target instead of the proxy: it does not answer like a proxy-server', async () => {
    const target = `http://${stack.target.host}:${stack.target.port}`;
    const run = await runCli(['stats', '--url', target]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      `error: ${target} does not answer like a proxy-server (GET /stats answered 404)`,
    );
    expect(run.stderr).toMatch(/hint: point --url \(or PROXY_URL\) at the proxy's base URL/);
    const json = await runCli(['stats', '--json', '--url', target]);
    expect(jsonOf(json)).toMatchObject({
      error: { code: 'not_a_proxy', exit_code: 5, proxy_code: 'http_404' },
    });
  });

  it('--url with a path the proxy does not have says the same', async () => {
    const run = await runCli(['stats', '--url', `${stack.url}/proxy`]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      'does not answer like a proxy-server (GET /proxy/stats answered 404)',
    );
  });
});

describe('one version flag', () => {
  it('-V prints the version, as proxy-server -V does; -v says to use -V', async () => {
    const upper = await runCli(['-V']);
    expect(upper.code).toBe(0);
    expect(upper.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const lower = await runCli(['-v']);
    expect(lower.code).toBe(2);
    expect(lower.stderr).toContain(
      'hint: the version flag is -V or --version, as for proxy-server',
    );
  });

  it('with --json, before or after it, the version is a JSON document', async () => {
    const plain = (await runCli(['--version'])).stdout.trim();
    for (const args of [
      ['--version', '--json'],
      ['--json', '-V'],
    ]) {
      const run = await runCli(args);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(jsonOf(run)).toEqual({ version: plain });
    }
  });
});

/** Every command, as completion offers them where a command may come. */
const COMMANDS = [
  'stats',
  'health',
  'list',
  'list-tasks',
  'task',
  'wait',
  'submit',
  'cancel',
  'retry',
  'watch',
  'cleanup',
  'demo',
  'completion',
  'help',
];

describe('bash completion, in a real bash', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'proxy-cli-completion-'));
    await writeFile(join(dir, 'body.json'), '{}');
    await writeFile(join(dir, 'report:1.json'), '{}');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /**
   * Loads the script as its header says, then asks it to complete `line` (cursor at the end) as
   * bash would: COMP_LINE and COMP_POINT, and COMP_WORDS split at spaces and at COMP_WORDBREAKS,
   * @ and : among them (a run of those is a word of its own). An answer replaces what is typed
   * from its last break on, where @ is none (seen in a real bash: `--data @bo` becomes `--data
   * XX`, `--url http://x:80` becomes `--url http://x:XX`). Answers the last word as it would be.
   */
  async function complete(line: string): Promise<string[]> {
    const words: string[] = [...(line.match(/[^\s"'@><=;|&(:]+|["'@><=;|&(:]+/g) ?? [])];
    if (line === '' || line.endsWith(' ')) words.push('');
    const script = `
      source <("${process.execPath}" "${proxyCliBin}" completion bash)
      COMP_LINE="$LINE"; COMP_POINT=\${#LINE}
      COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}
      complete -p proxy-cli >/dev/null && _proxy_cli && printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await promisify(execFile)('bash', ['-c', script], {
      cwd: dir,
      env: { ...process.env, LINE: line },
    });
    const typed = line.split(/\s/).at(-1) ?? '';
    const kept = typed.slice(0, typed.length - (/[^"'><=;|&(:]*$/.exec(typed)?.[0].length ?? 0));
    return stdout
      .split('\n')
      .filter((word) => word !== '')
      .map((word) => kept + word);
  }

  it.each<[string, string[]]>([
    ['proxy-cli ', COMMANDS],
    ['proxy-cli st', ['stats']],
    ['proxy-cli --sta', ['--stats', '--status']],
    [
      'proxy-cli list --status ',
      ['pending', 'processing', 'completed', 'failed', 'cancelled', 'expired'],
    ],
    ['proxy-cli --status f', ['failed']],
    ['proxy-cli demo q', ['queue-full']],
    ['proxy-cli --demo ', ['all', 'single', 'batch', 'queue-full', 'long', 'fail']],
    ['proxy-cli completion ', ['bash', 'zsh', 'fish']],
    ['proxy-cli --url http://x --json ', COMMANDS],
    ['proxy-cli submit api/x --data @bo', ['@body.json']],
    ['proxy-cli submit api/x --data @', ['@body.json', '@report:1.json']],
    ['proxy-cli submit api/x --data @report:', ['@report:1.json']],
    // Newcomer pass: in a real bash the @ and the URL's colons split the words, so these offered
    // nothing (the test split at spaces only).
    ['proxy-cli submit api/x --data @b', ['@body.json']],
    ['proxy-cli --url http://localhost:8080 ', COMMANDS],
    ['proxy-cli --url http://localhost:8080 --st', ['--stats', '--status']],
    ['proxy-cli wait ', []],
    // Completion pass: a value written after = was offered nothing.
    ['proxy-cli --status=f', ['--status=failed']],
    ['proxy-cli list --demo=q', ['--demo=queue-full']],
    ['proxy-cli submit api/x --data=@bo', ['--data=@body.json']],
    ['proxy-cli --url=http://x --st', ['--stats', '--status']],
    ['proxy-cli --url=http://x ', COMMANDS],
    // Review: a flag that takes no value was offered the commands after its =.
    ['proxy-cli --json=', []],
    ['proxy-cli --cleanup=', []],
    [
      'proxy-cli -',
      expect.arrayContaining(['-V', '--version', '-h', '--help', '--no-color', '--wait']),
    ],
    // Noticed: after a command every flag was offered, those it refuses too.
    ['proxy-cli list --st', ['--status']],
    ['proxy-cli submit api/x --st', []],
    ['proxy-cli --stats --w', ['--watch']],
    ['proxy-cli --task-id abc --w', ['--wait']],
    ['proxy-cli --submit=api/x --st', []],
    // Review: a -H value, or a flag's value like a command, ended the action's filter.
    ['proxy-cli --submit api/x -H a --st', []],
    ['proxy-cli --submit stats --w', ['--wait']],
    ['proxy-cli --watch --st', ['--stats', '--status']],
    ['proxy-cli --watch --stats --p', ['--poll-interval']],
    ['proxy-cli --stats ', []],
    // Review: a quoted value with a space was two words, the second taken for the command; a
    // flag after --demo was offered demo names; -H's value was offered the commands.
    ["proxy-cli -H 'X: y' ", COMMANDS],
    [`proxy-cli --data '{"a": 1}' --submit api/x --st`, []],
    ['proxy-cli --demo --p', ['--poll-interval']],
    ['proxy-cli -H ', []],
    ['proxy-cli --url http://x wait abc --', expect.not.arrayContaining(['--wait', '--stats'])],
  ])('%j', async (line, words) => {
    const got = await complete(line);
    if (Array.isArray(words)) expect(got.sort()).toEqual([...words].sort());
    else expect(got).toEqual(words);
  });

  it('offers every flag that --help lists', async () => {
    const help = (await runCli(['--help'])).stdout;
    const flags = [...new Set(help.match(/--[a-z][a-z-]*/g))];
    const offered = await complete('proxy-cli --');
    expect(flags.filter((flag) => !offered.includes(flag))).toEqual([]);
  });

  it.each(COMMANDS.filter((command) => command !== 'help'))(
    'after %s, offers the flags its help lists and no other',
    async (command) => {
      const offered = await complete(`proxy-cli ${command} x -`);
      expect(offered.sort()).toEqual(await flagsInHelpOf(command));
    },
  );
});

/** The flags a command's --help lists, short and long, from the start of its lines. */
async function flagsInHelpOf(command: string): Promise<string[]> {
  const help = (await runCli([command, '--help'])).stdout;
  return [...help.matchAll(/^ {2}(?:(-\w), )?(--[a-z][a-z-]*)/gm)]
    .flatMap(([, short, long]) => [short, long].filter((flag) => flag !== undefined))
    .sort();
}

describe('fish completion, in a real fish', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'proxy-cli-fish-'));
    const script = await promisify(execFile)(process.execPath, [proxyCliBin, 'completion', 'fish']);
    await writeFile(join(dir, 'proxy-cli.fish'), script.stdout);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** What fish offers for `line`, cursor at the end: its own `complete -C`, as Tab asks. */
  async function complete(line: string): Promise<string[]> {
    const { stdout } = await promisify(execFile)(
      'fish',
      [
        '--no-config',
        '-c',
        'source $argv[1]; complete -C $argv[2]',
        join(dir, 'proxy-cli.fish'),
        line,
      ],
      { cwd: dir, env: { ...process.env, HOME: dir } },
    );
    return stdout
      .split('\n')
      .filter((word) => word !== '')
      .map((word) => word.split('\t')[0] ?? '')
      .sort();
  }

  it.each<[string, string[]]>([
    ['proxy-cli ', [...COMMANDS].sort()],
    ['proxy-cli --sta', ['--stats', '--status']],
    ['proxy-cli list --st', ['--status']],
    ['proxy-cli submit api/x --st', []],
    ['proxy-cli --stats --w', ['--watch']],
    ['proxy-cli --task-id abc --w', ['--wait']],
    // Review: fish's own helpers missed --submit=api/x, and took a flag's value for a command.
    ['proxy-cli --submit=api/x --st', []],
    ['proxy-cli --submit stats --w', ['--wait']],
    ['proxy-cli --task-id list --l', []],
    ['proxy-cli --watch --stats --p', ['--poll-interval']],
    ['proxy-cli --url http://x --json ', [...COMMANDS].sort()],
    // Review: after --demo, fish offered no demo name.
    ['proxy-cli --demo ', ['all', 'batch', 'fail', 'long', 'queue-full', 'single']],
    ["proxy-cli -H 'X: y' ", [...COMMANDS].sort()],
    ['proxy-cli --status f', ['failed']],
    ['proxy-cli demo q', ['queue-full']],
    ['proxy-cli completion ', ['bash', 'fish', 'zsh']],
  ])('%j', async (line, words) => {
    expect(await complete(line)).toEqual(words);
  });

  it.each(COMMANDS.filter((command) => command !== 'help'))(
    'after %s, offers the flags its help lists and no other',
    async (command) => {
      expect(await complete(`proxy-cli ${command} x -`)).toEqual(await flagsInHelpOf(command));
    },
  );
});

describe('zsh and fish completion scripts', () => {
  it.each(['zsh', 'fish'])(
    '%s: every command, flag and value list is in the script',
    async (shell) => {
      const run = await runCli(['completion', shell]);
      expect(run.code).toBe(0);
      const help = (await runCli(['--help'])).stdout;
      const script = run.stdout;
      const flags = [...new Set(help.match(/--[a-z][a-z-]*/g))];
      const named = (flag: string) =>
        shell === 'zsh'
          ? [`${flag}[`, `${flag}=[`, `,${flag}}`, `,${flag}=}`].some((spec) =>
              script.includes(spec),
            )
          : script.includes(`-l ${flag.slice(2)} `);
      expect(flags.filter((flag) => !named(flag))).toEqual([]);
      for (const word of [
        'stats',
        'wait',
        'list-tasks',
        'completion',
        'queue-full',
        'processing',
      ]) {
        expect(script).toContain(word);
      }
    },
  );
});
