import { describe, expect, it } from 'vitest';
import { CliError } from '../src/cli-error.js';
import { headerArgs } from '../src/header-option.js';
import { type CliOptions, DEMO_NAMES } from '../src/options.js';
import { parseArgv } from '../src/program.js';

const noEnv = {};

function parse(argv: string[], env: Record<string, string> = noEnv): CliOptions {
  const result = parseArgv(argv, env, { writeOut: () => {} });
  if (result.kind !== 'run') throw new Error(`expected options, got ${result.kind}`);
  return result.options;
}

function usageError(argv: string[], env: Record<string, string> = noEnv): CliError {
  try {
    parseArgv(argv, env, { writeOut: () => {} });
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    const cliError = error as CliError;
    expect(cliError.exitCode).toBe(2);
    return cliError;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

const defaults = {
  url: 'http://localhost:8080',
  urlSource: 'default',
  json: false,
  color: true,
} as const;

describe('argv → options', () => {
  it.each<[string[], Partial<CliOptions>]>([
    [['--stats'], { ...defaults, action: { kind: 'stats' } }],
    [['--health'], { action: { kind: 'health' } }],
    [['--demo'], { action: { kind: 'demo', demos: DEMO_NAMES } }],
    [['--demo', 'all'], { action: { kind: 'demo', demos: DEMO_NAMES } }],
    [['--demo', 'queue-full'], { action: { kind: 'demo', demos: ['queue-full'] } }],
    [
      ['--demo', 'batch', '--timeout', '30'],
      { action: { kind: 'demo', demos: ['batch'] }, timeoutMs: 30_000 },
    ],
    [['--task-id', 'abc-123'], { action: { kind: 'task', taskId: 'abc-123', wait: false } }],
    [
      ['--task-id', 'abc', '--wait', '--poll-interval', '0.5', '--timeout', '90'],
      {
        action: { kind: 'task', taskId: 'abc', wait: true },
        pollIntervalMs: 500,
        timeoutMs: 90_000,
      },
    ],
    [['--list-tasks'], { action: { kind: 'list' } }],
    [
      ['--list-tasks', '--status', 'failed', '--limit', '5', '--offset', '10'],
      { action: { kind: 'list', status: 'failed', limit: 5, offset: 10 } },
    ],
    [['--list-tasks', '--offset', '0'], { action: { kind: 'list', offset: 0 } }],
    [
      ['--submit', 'api/function1'],
      { action: { kind: 'submit', path: 'api/function1', method: 'POST', wait: false } },
    ],
    [
      ['--submit', '/function1?delay=4000'],
      { action: { kind: 'submit', path: 'api/function1?delay=4000', method: 'POST', wait: false } },
    ],
    [
      ['--submit', '/api/x?y=1', '--method', 'put', '--data', '{"a":1}', '--wait'],
      {
        action: {
          kind: 'submit',
          path: 'api/x?y=1',
          method: 'PUT',
          data: { kind: 'inline', json: '{"a":1}' },
          wait: true,
        },
      },
    ],
    [
      ['--submit', 'api/x', '--data', '@body.json'],
      {
        action: {
          kind: 'submit',
          path: 'api/x',
          method: 'POST',
          data: { kind: 'file', path: 'body.json' },
          wait: false,
        },
      },
    ],
    [
      ['--submit', 'api/x', '--data', '@-'],
      {
        action: {
          kind: 'submit',
          path: 'api/x',
          method: 'POST',
          data: { kind: 'stdin' },
          wait: false,
        },
      },
    ],
    [['--cleanup'], { action: { kind: 'cleanup', maxAgeHours: 24 } }],
    [['--cleanup', '0'], { action: { kind: 'cleanup', maxAgeHours: 0 } }],
    [['--cleanup', '1.5', '--json'], { action: { kind: 'cleanup', maxAgeHours: 1.5 }, json: true }],
    [['--stats', '--json', '--no-color'], { json: true, color: false }],
    [['--stats', '--url', 'http://proxy:9000/'], { url: 'http://proxy:9000', urlSource: 'flag' }],
    [['--stats', '--api-key', 's3cret'], { apiKey: 's3cret', apiKeySource: 'flag' }],
    [['--cancel', 'abc'], { action: { kind: 'cancel', taskId: 'abc' } }],
    [
      ['--cancel', 'abc', '--timeout', '5'],
      { action: { kind: 'cancel', taskId: 'abc' }, timeoutMs: 5000 },
    ],
    [
      ['--task-id', 'abc', '--timeout', '5'],
      { action: { kind: 'task', taskId: 'abc', wait: false }, timeoutMs: 5000 },
    ],
    [['--retry', 'abc'], { action: { kind: 'retry', taskId: 'abc', wait: false } }],
    [
      ['--retry', 'abc', '--timeout', '5'],
      { action: { kind: 'retry', taskId: 'abc', wait: false }, timeoutMs: 5000 },
    ],
    [
      ['--retry', 'abc', '--wait', '--timeout', '30'],
      { action: { kind: 'retry', taskId: 'abc', wait: true }, timeoutMs: 30_000 },
    ],
    [['--watch'], { action: { kind: 'watch' } }],
    [
      ['--watch', '--status', 'failed,cancelled', '--json'],
      { action: { kind: 'watch', statuses: ['failed', 'cancelled'] }, json: true },
    ],
    [['--stats', '--watch'], { action: { kind: 'stats', watch: { refreshMs: 2000 } } }],
    [
      ['--stats', '--watch', '--poll-interval', '0.5'],
      { action: { kind: 'stats', watch: { refreshMs: 500 } } },
    ],
    [
      [
        '--submit',
        'api/x',
        '--idempotency-key',
        'order-42',
        '--priority',
        'high',
        '--callback-url',
        'https://hooks.example.com/done',
      ],
      {
        action: {
          kind: 'submit',
          path: 'api/x',
          method: 'POST',
          wait: false,
          idempotencyKey: 'order-42',
          priority: 'high',
          callbackUrl: 'https://hooks.example.com/done',
        },
      },
    ],
    [
      [
        '--submit',
        'api/x',
        '--max-attempts',
        '4',
        '--max-queue-time',
        '90',
        '--upstream-timeout',
        '2.5',
      ],
      {
        action: {
          kind: 'submit',
          path: 'api/x',
          method: 'POST',
          wait: false,
          maxAttempts: 4,
          maxQueueTimeMs: 90_000,
          upstreamTimeoutMs: 2500,
        },
      },
    ],
  ])('%j', (argv, expected) => {
    expect(parse(argv)).toMatchObject(expected);
  });

  it.each<[string[], Record<string, string>, Partial<CliOptions>]>([
    [['--stats'], { PROXY_URL: 'http://env:1234' }, { url: 'http://env:1234', urlSource: 'env' }],
    [
      ['--stats', '--url', 'http://flag:1'],
      { PROXY_URL: 'http://env:2' },
      { url: 'http://flag:1', urlSource: 'flag' },
    ],
    [['--stats'], { PROXY_URL: '' }, { url: 'http://localhost:8080', urlSource: 'default' }],
    [['--stats'], { PROXY_API_KEY: 'k' }, { apiKey: 'k', apiKeySource: 'env' }],
    [
      ['--stats', '--api-key', 'flag'],
      { PROXY_API_KEY: 'env' },
      { apiKey: 'flag', apiKeySource: 'flag' },
    ],
  ])('%j with env %j', (argv, env, expected) => {
    expect(parse(argv, env)).toMatchObject(expected);
  });

  it('leaves out what was not given', () => {
    const options = parse(['--stats']);
    expect(options).not.toHaveProperty('apiKey');
    expect(options).not.toHaveProperty('timeoutMs');
    expect(options).not.toHaveProperty('pollIntervalMs');
  });
});

describe('commands are the flags of the same name', () => {
  it.each<[string[], string[]]>([
    [['stats'], ['--stats']],
    [
      ['health', '--json'],
      ['--health', '--json'],
    ],
    [['list'], ['--list-tasks']],
    [
      ['list-tasks', '--status', 'failed', '--limit', '5'],
      ['--list-tasks', '--status', 'failed', '--limit', '5'],
    ],
    [
      ['--json', 'list'],
      ['--list-tasks', '--json'],
    ],
    [
      ['task', 'abc'],
      ['--task-id', 'abc'],
    ],
    [
      ['wait', 'abc', '--timeout', '90'],
      ['--task-id', 'abc', '--wait', '--timeout', '90'],
    ],
    [
      ['wait', 'abc', '--wait'],
      ['--task-id', 'abc', '--wait'],
    ],
    [
      ['submit', 'api/x', '--data', '{}', '--wait'],
      ['--submit', 'api/x', '--data', '{}', '--wait'],
    ],
    [['cleanup'], ['--cleanup']],
    [
      ['cleanup', '48'],
      ['--cleanup', '48'],
    ],
    [['demo'], ['--demo']],
    [
      ['demo', 'batch'],
      ['--demo', 'batch'],
    ],
    [
      ['stats', '--url', 'http://proxy:9000'],
      ['--stats', '--url', 'http://proxy:9000'],
    ],
    [
      ['cancel', 'abc'],
      ['--cancel', 'abc'],
    ],
    [
      ['retry', 'abc', '--wait'],
      ['--retry', 'abc', '--wait'],
    ],
    [['watch'], ['--watch']],
    [
      ['watch', '--stats'],
      ['--stats', '--watch'],
    ],
    [
      ['stats', '--watch'],
      ['--stats', '--watch'],
    ],
  ])('%j is %j', (command, flags) => {
    expect(parse(command)).toEqual(parse(flags));
  });
});

describe('usage errors (exit 2)', () => {
  it.each<[string[], RegExp]>([
    [
      [],
      /no action given: choose a command \(stats, list, wait <id>, …\) or one of --demo, --stats, .*, --health, --cancel, --retry or --watch/,
    ],
    [['--stats', '--health'], /choose one action per call, got --stats and --health/],
    [['--demo', '--list-tasks'], /got --demo and --list-tasks/],
    [['--wait'], /^--wait goes with --task-id, --submit or --retry: give one of them too$/],
    [['--limit', '5'], /^--limit goes with --list-tasks: give one of them too$/],
    [['--stats', '--wait'], /--wait goes with --task-id, --submit or --retry, not --stats/],
    [['--list-tasks', '--data', '{}'], /--data goes with --submit, not --list-tasks/],
    [['--task-id', 'x', '--status', 'failed'], /--status goes with --list-tasks/],
    [
      ['--watch', '--timeout', '5'],
      /--timeout goes with --task-id, --submit, --retry, --demo, --stats, --list-tasks, --health, --cleanup or --cancel, not --watch/,
    ],
    [['--stats', '--watch', '--timeout', '5'], /^--timeout goes with --stats only without --watch/],
    [['--task-id', 'x', '--poll-interval', '1'], /--poll-interval only matters with --wait/],
    [['--submit', 'api/x', '--poll-interval', '1'], /--poll-interval only matters with --wait/],
    [['--demo', 'nope'], /--demo takes all, single, batch, queue-full, long, fail; got 'nope'/],
    [
      ['--list-tasks', '--status', 'done'],
      /--status must be one of pending, processing, completed, failed/,
    ],
    [
      ['list', '--status', 'completed,failed'],
      /^--status takes one status with --list-tasks, got 'completed,failed' \(several, comma-separated, go with --watch\)$/,
    ],
    [['--list-tasks', '--limit', '0'], /--limit must be a whole number from 1 to 1000, got '0'/],
    [['--list-tasks', '--limit', '99999'], /--limit must be a whole number from 1 to 1000/],
    [['--list-tasks', '--limit', '2.5'], /--limit must be a whole number/],
    [['--list-tasks', '--offset', '-1'], /--offset must be a whole number from 0 to /],
    [
      ['--task-id', 'x', '--wait', '--timeout', '0'],
      /--timeout must be a number of seconds from 0.001 to 2147483, got '0'/,
    ],
    [
      ['--task-id', 'x', '--wait', '--poll-interval', 'soon'],
      /--poll-interval must be a number of seconds from 0.001/,
    ],
    [
      ['--task-id', 'x', '--wait', '--timeout', '3000000'],
      /--timeout must be a number of seconds from 0.001 to 2147483, got '3000000'/,
    ],
    [
      ['stats', '--watch', '--poll-interval', '10000000'],
      /--poll-interval must be a number of seconds from 0.001 to 2147483/,
    ],
    [['--submit', 'api/../tasks/cleanup'], /--submit: The path must stay under api\//],
    [['--submit', 'api/%2e%2e/stats'], /--submit: The path must stay under api\//],
    [
      ['--submit', 'api\\..\\stats'],
      /--submit: The path must stay under api\/: a backslash is read as a slash/,
    ],
    [['--submit', 'api/search?q=C#'], /--submit: A "#" in the path starts a fragment.*%23/],
    [
      ['--submit', 'api/x', '--method', 'connect'],
      /not CONNECT, TRACE or TRACK\) and the proxy reads .*, got 'connect'/,
    ],
    [
      ['--submit', 'api/x', '--method', 'TRACE'],
      /not CONNECT, TRACE or TRACK\) and the proxy reads .*, got 'TRACE'/,
    ],
    [
      ['--stats', '--url', 'http://127.0.0.1:8080?x=1'],
      /--url is the proxy's base URL and takes no query or fragment/,
    ],
    [['--stats', '--url', 'http://127.0.0.1:8080/#top'], /takes no query or fragment/],
    [['--stats', '--url', ''], /^--url is not a URL: ''/],
    [['--stats', '--api-key', ''], /--api-key is empty/],
    [['help', 'nope'], /^unknown command 'nope'/],
    [['help', 'stat'], /unknown command 'stat'. Did you mean stats\?/],
    [['--task-id', 'a b'], /--task-id must be a task id/],
    [['--submit', 'http://elsewhere/api/x'], /--submit takes a path on the proxy/],
    [['--submit', 'api/x', '--method', 'GE T'], /--method must be an HTTP method/],
    // UI pass: a method Node's parser does not know came back as the proxy's 400, exit 5.
    [['--submit', 'api/x', '--method', 'FOO'], /and the proxy reads .*, got 'FOO'$/],
    [['--submit', 'api/x', '--data', '{oops'], /--data is not valid JSON/],
    [['--submit', 'api/x', '--data', '@'], /--data @ needs a file name/],
    [
      ['--submit', 'api/x', '--method', 'get', '--data', '{}'],
      /--data cannot go with --method GET/,
    ],
    [['--cleanup', 'soon'], /--cleanup must be a number of hours/],
    [['--cleanup', '1e9'], /--cleanup must be a number of hours from 0 to 876000, got '1e9'/],
    // Number() reads these as 16, 3 and 8: `cleanup 0x10` removed tasks older than 16 hours.
    [['--cleanup', '0x10'], /--cleanup must be a number of hours from 0 to 876000, got '0x10'/],
    [['wait', 'x', '--timeout', '0b11'], /--timeout must be a number of seconds .*, got '0b11'/],
    [
      ['submit', 'api/x', '--max-queue-time', '0o10'],
      /--max-queue-time must be a number of seconds .*, got '0o10'/,
    ],
    [['--stats', '--url', 'localhost:8080'], /--url must be an http:\/\/ or https:\/\/ URL/],
    [['--stats', '--url', 'not a url'], /--url is not a URL/],
    [['--stats', '--bogus'], /unknown option '--bogus'/],
    [['--task-id'], /option '--task-id <id>' argument missing/],
    [['--stats', 'extra'], /unknown command 'extra'/],
    [['stats', 'extra'], /too many arguments for 'stats'/],
    [['wait'], /missing required argument 'id'/],
    [['stats', '--list-tasks'], /choose one action per call, got --stats and --list-tasks/],
    [['task', 'a', '--task-id', 'b'], /got the command task and --task-id/],
    [['completion', 'tcsh'], /completion takes bash, zsh, fish; got 'tcsh'/],
    [['completion', 'bash', '--stats'], /completion takes no other flags, got --stats/],
    [['--cancel', 'a', '--retry', 'b'], /choose one action per call, got --cancel and --retry/],
    [['--watch', '--list-tasks'], /got --list-tasks and --watch/],
    [['--cancel', 'a', '--wait'], /--wait goes with --task-id, --submit or --retry, not --cancel/],
    [['--retry', 'a', '--poll-interval', '5'], /--poll-interval only matters with --wait/],
    [['--stats', '--poll-interval', '1'], /--poll-interval goes with --stats only with --watch/],
    [['--watch', '--status', 'failed,done'], /--status must be one or more of .*, got 'done'/],
    [
      ['--list-tasks', '--status', 'failed,cancelled'],
      /--status takes one status with --list-tasks/,
    ],
    [['--cancel', 'a b'], /--cancel must be a task id/],
    [['--retry', ''], /--retry must be a task id/],
    // A path segment, not an id: the SDK refuses it with a TypeError.
    [['--task-id', '..'], /^--task-id must be a task id .*, got '\.\.'$/],
    [['task', '.'], /^--task-id must be a task id .*, got '\.'$/],
    [['wait', ' .. '], /^--task-id must be a task id/],
    [['cancel', '..'], /^--cancel must be a task id .*, got '\.\.'$/],
    [['retry', '..', '--wait'], /^--retry must be a task id .*, got '\.\.'$/],
    [['--stats', '--priority', 'high'], /--priority goes with --submit, not --stats/],
    [['--submit', 'api/x', '--priority', 'urgent'], /--priority must be one of high, normal, low/],
    [['--submit', 'api/x', '--callback-url', '/relative'], /--callback-url must be an absolute/],
    [
      ['--submit', 'api/x', '--callback-url', 'https://u:p@hooks.example.com/'],
      /--callback-url must not carry credentials \(user:password@\)/,
    ],
    [
      ['--submit', 'api/x', '--max-attempts', '0'],
      /--max-attempts must be a whole number, 1 or more, got '0'/,
    ],
    [['--submit', 'api/x', '--max-attempts', '2.5'], /--max-attempts must be a whole number/],
    [
      ['--submit', 'api/x', '--max-queue-time', 'soon'],
      /--max-queue-time must be a number of seconds from 0.001 to 31536000, got 'soon'/,
    ],
    [
      ['--submit', 'api/x', '--upstream-timeout', '-1'],
      /--upstream-timeout must be a number of seconds from 0.001/,
    ],
    // Above 0, yet below the millisecond the SDK takes: a usage error, not a crash.
    [
      ['--submit', 'api/x', '--max-queue-time', '0.0001'],
      /--max-queue-time must be a number of seconds from 0.001 to 31536000, got '0.0001'/,
    ],
    [['--task-id', 'x', '--wait', '--timeout', '0.0004'], /--timeout must be a number of seconds/],
    [
      ['--submit', 'api/x', '--upstream-timeout', '40000000'],
      /--upstream-timeout must be a number of seconds from 0.001 to 31536000/,
    ],
    [['--stats', '--max-attempts', '3'], /--max-attempts goes with --submit, not --stats/],
    [['--submit', 'api/x', '--idempotency-key', 'a"b'], /--idempotency-key must be 1 to 255/],
    [['--retry', 'a', '--idempotency-key', 'k'], /--idempotency-key goes with --submit/],
    [['cancel'], /missing required argument 'id'/],
    [['watch', 'x'], /too many arguments for 'watch'/],
    [['watch', '--watch'], /got the command watch and --watch/],
  ])('%j', (argv, message) => {
    expect(usageError(argv).message).toMatch(message);
  });

  // Newcomer pass: from a script whose $ID was empty, `--task-id $ID --wait` said '--wait' is not
  // a task id and exited 4 (a task that is gone); `--url $URL --stats` said no action was given.
  it.each([
    [['--task-id', '--wait'], '--task-id', '--wait'],
    [['--cancel', '--json'], '--cancel', '--json'],
    [['--retry', '--wait'], '--retry', '--wait'],
    [['--url', '--stats'], '--url', '--stats'],
    [['--api-key', '--stats'], '--api-key', '--stats'],
    [['submit', 'api/x', '--data', '--wait'], '--data', '--wait'],
    [['--submit', 'api/x', '-H', '--json'], '-H', '--json'],
    [['list', '--status', '--limit=5'], '--status', '--limit'],
  ])('refuses %j: %s given the flag %s as its value', (argv, flag, next) => {
    const error = usageError(argv);
    expect(error.message).toBe(
      `${flag} needs a value, and the next word is the flag ${next}: give it one`,
    );
    expect(error.hint).toBe(
      `${flag} <value>; in a script, an empty variable leaves it none: quote it ("$ID"), and check it is set`,
    );
  });

  it('takes a value that only looks like a flag, and an empty one, as values', () => {
    expect(parse(['submit', 'api/x', '--data', '"--wait"']).action).toMatchObject({
      kind: 'submit',
    });
    expect(usageError(['--task-id', '', '--wait']).message).not.toMatch(/needs a value/);
  });

  // commander keeps the last value of a flag given twice: --cancel A --cancel B cancelled B only.
  it.each([
    [['--cancel', 'a', '--cancel', 'b'], '--cancel'],
    [['--task-id', 'x', '--task-id', 'y', '--wait'], '--task-id'],
    [['--submit', 'api/a', '--submit', 'api/b'], '--submit'],
    [['--retry', 'a', '--retry=b'], '--retry'],
    [['--demo', '--demo', 'batch'], '--demo'],
    [['--cleanup', '1', '--cleanup', '2'], '--cleanup'],
    // The switches were let through, though the exit-code table says any action's flag twice is
    // refused.
    [['--stats', '--stats'], '--stats'],
    [['--list-tasks', '--list-tasks'], '--list-tasks'],
    [['--health', '--health'], '--health'],
    [['--watch', '--watch'], '--watch'],
    [['--stats', '--watch', '--watch'], '--watch'],
  ])('refuses %j: an action flag given twice, never the last value alone', (argv, flag) => {
    expect(usageError(argv).message).toMatch(new RegExp(`^${flag} is given twice`));
  });

  // An alias with --url can be pointed elsewhere: settings keep the last, as flags usually do.
  it.each([
    [['--stats', '--url', 'http://a:1', '--url', 'http://b:2'], { url: 'http://b:2' }],
    [['--stats', '--api-key', 'k1', '--api-key', 'k2'], { apiKey: 'k2' }],
    [
      ['--list-tasks', '--status', 'failed', '--status', 'completed'],
      { action: { kind: 'list', status: 'completed' } },
    ],
  ])('takes the last of a setting given twice: %j', (argv, expected) => {
    expect(parse(argv)).toMatchObject(expected);
  });

  it('refuses a URL with credentials without repeating them', () => {
    const error = usageError(['--stats', '--url', 'http://user:pw-secret@127.0.0.1:8080']);
    expect(error.message).toMatch(/--url must not carry credentials/);
    expect(`${error.message} ${error.hint}`).not.toContain('pw-secret');
  });

  // SDK pass: a key with a space (or Latin-1) was sent, to be answered 401 by every proxy.
  it.each([['sec\nret'], ['ключ'], ['my secret key'], ['clé']])(
    'refuses the API key %j without showing it',
    (key) => {
      for (const [argv, env] of [
        [['--stats', '--api-key', key], {}],
        [['--stats'], { PROXY_API_KEY: key }],
      ] as const) {
        const error = usageError([...argv], env);
        expect(error.message).toMatch(/holds a character no proxy key has/);
        expect(error.message).not.toContain(key.trim());
      }
    },
  );

  it('checks PROXY_URL too, and says where the bad URL came from', () => {
    expect(usageError(['--stats'], { PROXY_URL: 'ftp://x' }).message).toMatch(/^PROXY_URL must be/);
  });

  // Review: a printed command holds --api-key "$PROXY_API_KEY", empty where it is not set.
  it('an empty --api-key is said to want PROXY_API_KEY set, for a pasted command', () => {
    expect(usageError(['--stats', '--api-key', '']).hint).toBe(
      'from a command pasted with --api-key "$PROXY_API_KEY": set PROXY_API_KEY to the key first',
    );
  });

  it.each([
    [['--stats', '--url', 'localhost:8080'], {}, 'http://localhost:8080'],
    [['--stats', '--url', '127.0.0.1:8080/proxy'], {}, 'http://127.0.0.1:8080/proxy'],
    [['--stats'], { PROXY_URL: 'proxy.internal:8080' }, 'http://proxy.internal:8080'],
  ])('%j %j: a URL without its scheme gets one in the hint', (argv, env, meant) => {
    expect(usageError(argv, env).hint).toBe(`write the scheme: ${meant}`);
  });

  // Under /api the proxy takes a request for a task: a cancel would send the target a DELETE, and
  // a submission was queued for /api/api/function1 and failed at the target only later.
  it.each([
    [['cancel', '00000000-0000-4000-8000-000000000000', '--url', 'http://p:8080/api'], '--url'],
    [['retry', '00000000-0000-4000-8000-000000000000'], 'PROXY_URL'],
    [['cleanup', '0', '--url', 'http://p:8080/api/'], '--url'],
    [['--submit', 'function1', '--url', 'http://p:8080/api'], '--url'],
    [['submit', 'api/function1', '--wait'], 'PROXY_URL'],
  ])('refuses %j with a URL under /api before sending anything', (argv, source) => {
    const error = usageError(argv, { PROXY_URL: 'http://p:8080/api' });
    expect(error.message).toMatch(new RegExp(`^${source} http://p:8080/api/? ends in /api: `));
    expect(error.message).toMatch(/nothing was sent$/);
    expect(error.hint).toMatch(/^drop \/api from --url/);
  });

  // The proxy decodes the path before routing: /%61pi was sent, and the target got the cleanup.
  it.each([
    ['http://p:8080/%61pi', 'cleanup'],
    ['http://p:8080/x/%61%70%69/', 'cancel'],
    ['http://p:8080/%41pi/../%61pi', 'retry'],
  ])('refuses %s, /api written with escapes, for %s', (url, command) => {
    const error = usageError([command, '1000', '--url', url]);
    expect(error.message).toMatch(/ends in \/api: .*nothing was sent$/);
  });

  it.each([
    ['http://p:8080/%zzapi'],
    ['http://p:8080/api%'],
    ['http://p:8080/%E0%A4%A/'],
    ['http://p:8080/%41PI'],
  ])('takes %s, which is not /api, and a malformed escape does not throw', (url) => {
    expect(parse(['cleanup', '1', '--url', url]).url).toBe(url.replace(/\/$/, ''));
  });

  it('lets a read go to a URL under /api: it fails harmlessly, and is explained then', () => {
    expect(parse(['--stats'], { PROXY_URL: 'http://p:8080/api' }).url).toBe('http://p:8080/api');
  });

  it.each([
    [['--submit', 'api/x', '-H', 'Authorization Bearer s3cret'], /, got no colon$/],
    [['--submit', 'api/x', '-H', 'Bad Name: x'], /^--header must be 'Name: value'/],
    [['--submit', 'api/x', '-H', 'X-Proxy-Priority: high'], /set by --priority$/],
    [['--submit', 'api/x', '-H', 'content-type: text/plain'], /set by --data/],
    [['--submit', 'api/x', '-H', 'Prefer: return=minimal, wait=5'], /its wait is set by --wait$/],
    [['--submit', 'api/x', '-H', 'Prefer: respond-async'], /its respond-async is the proxy's/],
    [['--submit', 'api/x', '-H', 'Content-Length: 3'], /the connection sets that one$/],
    [['--submit', 'api/x', '-H', 'A: 1', '-H', 'a: 2'], /^--header a is given twice/],
    [
      ['--submit', 'api/x', '-H', 'Authorization: x', '--api-key', 'k'],
      /replace the proxy's API key/,
    ],
    [['--stats', '-H', 'A: 1'], /^--header goes with --submit/],
    // fetch throws on a character past U+00FF, and fails a control character as unreachable.
    [
      ['--submit', 'api/x', '-H', 'X-Title: Łódź'],
      /^--header X-Title: the value holds a character/,
    ],
    [['--submit', 'api/x', '-H', 'X-A: a\x01b'], /^--header X-A: the value holds a character/],
    [['--submit', 'api/x', '-H', 'X-A: a\x7fb'], /^--header X-A: the value holds a character/],
  ])('--header: %j is refused', (argv, message) => {
    expect(usageError(argv).message).toMatch(message);
  });

  it('--header in a command printed to run again: a credential as <value>', () => {
    expect(headerArgs({ 'X-Proxy-Tenant': 'a', authorization: 'Bearer t' })).toEqual([
      '--header',
      'X-Proxy-Tenant: a',
      '--header',
      'authorization: <value>',
    ]);
  });

  it('--header: each header as given, for the target', () => {
    const options = parse([
      'submit',
      'api/x',
      '-H',
      'X-Proxy-Tenant: team-a',
      '--header',
      'X-Empty:',
      '-H',
      'X-Latin-1: café\tcrème',
      // The target's preferences: the proxy forwards them.
      '-H',
      'Prefer: return=representation',
    ]);
    expect(options.action).toMatchObject({
      headers: {
        'X-Proxy-Tenant': 'team-a',
        'X-Empty': '',
        'X-Latin-1': 'café\tcrème',
        Prefer: 'return=representation',
      },
    });
  });

  it('suggests the flag or the command that was probably meant', () => {
    expect(usageError(['--stat']).message).toMatch(/Did you mean --stats\?/);
    const command = usageError(['stat']);
    expect(command.message).toBe("unknown command 'stat'. Did you mean stats?");
    expect(command.hint).toMatch(
      /^commands: stats, health, list, task, wait, submit, cancel, retry, watch, cleanup, demo, completion/,
    );
  });

  it.each([
    // Too far from any flag for a typo: the flags that have its words.
    [['--id', 'x'], "unknown option '--id' (Did you mean --task-id?)"],
    [['--key', 'k'], "unknown option '--key' (Did you mean --idempotency-key or --api-key?)"],
    // A typo away from --limit, but its word is that of --list-tasks.
    [['--list'], "unknown option '--list' (Did you mean --list-tasks?)"],
    [['wait', 'x', '--poll', '5'], "unknown option '--poll' (Did you mean --poll-interval?)"],
    [['--frobnicate'], "unknown option '--frobnicate'"],
  ])('%j: %s', (argv, message) => {
    expect(usageError(argv).message).toBe(message);
  });

  it('-v is not the version flag, and says which is', () => {
    const error = usageError(['-v']);
    expect(error.message).toBe("unknown option '-v'");
    expect(error.hint).toBe('the version flag is -V or --version, as for proxy-server');
  });

  // Newcomer pass: '--json=true' and 'wait <id> --wait=false' were 'unknown option', though
  // --json and --wait exist; the message now says they are switches that take no value.
  it.each([
    [['stats', '--json=true'], '--json'],
    [['--list-tasks', '--no-color=1'], '--no-color'],
    [['--task-id', 'x', '--wait=false'], '--wait'],
  ])('%j: a switch given a value is named as a switch', (argv, flag) => {
    expect(usageError(argv).message).toBe(
      `${flag} is a switch and takes no value, got '${argv.at(-1)}': give the flag alone, or leave it out`,
    );
  });

  it('points at --help, or at the help of the command the mistake is under', () => {
    expect(usageError(['--stats', '--health']).hint).toBe('see proxy-cli --help');
    expect(usageError(['stats', '--bogus']).hint).toBe('see proxy-cli help stats');
    expect(usageError(['wait']).hint).toBe('see proxy-cli help wait');
  });
});

describe('help and version', () => {
  function printed(argv: string[]): string {
    let text = '';
    const result = parseArgv(argv, noEnv, { writeOut: (s) => (text += s) });
    expect(result).toEqual({ kind: 'printed' });
    return text;
  }

  it("help help prints the help, and help <command> that command's", () => {
    expect(printed(['help', 'help'])).toBe(printed(['--help']));
    expect(printed(['help', 'stats'])).toMatch(/Usage: proxy-cli stats/);
  });

  it('help takes one command and nothing after it', () => {
    const error = usageError(['help', 'stats', 'extra']);
    expect(error.message).toBe("help takes one command, got 'stats' and then 'extra'");
    expect(error.hint).toBe('see proxy-cli help stats');
    expect(usageError(['help', 'submit', '--data', '{}']).message).toMatch(
      /^help takes one command/,
    );
    expect(printed(['help', 'stats', '--no-color', '--json'])).toBe(printed(['help', 'stats']));
  });

  it("help stats gives --poll-interval's default when watching, not only the adaptive one", () => {
    const help = printed(['help', 'stats']).replace(/\s+/g, ' ');
    expect(help).toContain(
      '--poll-interval <seconds> poll at this fixed interval (default: adaptive; 2 with --stats --watch)',
    );
  });

  // Hostile pass: `help stats` listed every action and every flag of the program, --submit's
  // --data and --header among them, as though they went with stats.
  it.each([
    ['stats', ['--watch', '--poll-interval', '--timeout']],
    ['wait', ['--poll-interval', '--timeout']],
    ['list', ['--status', '--limit', '--offset', '--timeout']],
    [
      'submit',
      [
        ...['--wait', '--poll-interval', '--timeout', '--data', '--method', '--idempotency-key'],
        ...['--priority', '--callback-url', '--max-attempts', '--max-queue-time'],
        ...['--upstream-timeout', '--header'],
      ],
    ],
    ['list-tasks', ['--status', '--limit', '--offset', '--timeout']],
    ['cancel', ['--timeout']],
    ['task', ['--wait', '--poll-interval', '--timeout']],
  ])('help %s lists the flags that go with it and no other action', (command, own) => {
    const section = printed(['help', command]).split('Flags it takes:')[1] ?? '';
    const flags = [...section.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)]
      .map((match) => match[1])
      .filter((flag) => !['--url', '--api-key', '--json', '--no-color'].includes(flag ?? ''));
    expect(new Set(flags)).toEqual(new Set(own));
  });

  // Hostile pass: `help demo` said `[name]` and never which names, `help cleanup` neither the
  // default nor the bounds of `[hours]`: only the top-level --help's examples told.
  it.each([
    ['demo', 'name all (the default), single, batch, queue-full, long, fail'],
    [
      'cleanup',
      'hours remove finished tasks older than this: 24 by default, 0 for every finished task, at most 876000',
    ],
    ['task', 'id a task id, as submit and list print it'],
    ['wait', 'id a task id, as submit and list print it'],
    ['cancel', 'id a task id, as submit and list print it'],
    ['retry', 'id a task id, as submit and list print it'],
    [
      'submit',
      'path a path under the proxy, e.g. api/function1 (a path without api/ gets it: report is api/report)',
    ],
  ])('help %s says what its argument takes', (command, argument) => {
    const help = printed(['help', command]).replace(/\s+/g, ' ');
    expect(help).toContain(`Arguments: ${argument} Options:`);
  });

  it('help completion lists no flag of the program', () => {
    const help = printed(['help', 'completion']);
    expect(help).not.toContain('Flags it takes:');
    expect(help).not.toContain('Global Options:');
    expect(help).not.toContain('--stats');
  });

  it('--help lists every flag, the environment, examples and the exit codes', () => {
    const help = printed(['--help']);
    for (const flag of [
      '--demo [name]',
      '--stats',
      '--task-id <id>',
      '--list-tasks',
      '--submit <path>',
      '--cleanup [hours]',
      '--health',
      '--wait',
      '--poll-interval <seconds>',
      '--timeout <seconds>',
      '--data <json|@file>',
      '--method <method>',
      '--idempotency-key <key>',
      '--priority <level>',
      '--callback-url <url>',
      '--max-attempts <n>',
      '--max-queue-time <seconds>',
      '--upstream-timeout <seconds>',
      '--cancel <id>',
      '--retry <id>',
      '--watch',
      '--status <status>',
      '--limit <n>',
      '--offset <n>',
      '--url <url>',
      '--api-key <key>',
      '--json',
      '--no-color',
      '--version',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toContain('PROXY_URL');
    expect(help).toContain('PROXY_API_KEY');
    expect(help).toContain('NO_COLOR');
    // CLI pass: the help named neither FORCE_COLOR nor a task cancelled or expired as exit 1.
    expect(help).toMatch(
      /^ {2}FORCE_COLOR +1 turns colours on off a terminal; NO_COLOR wins over it$/m,
    );
    expect(help).toMatch(
      /^ {2}1 +the task ended without completing: failed, cancelled or expired \(or a bug in the CLI\)$/m,
    );
    expect(help).toMatch(/Examples:\n\s+proxy-cli demo/);
    expect(help).toMatch(/^ {2}124 +--timeout ran out/m);
    expect(help).toMatch(/^ {2}130 +interrupted/m);
    expect(help).toMatch(/^ {2}6 +the task's state does not allow it/m);
  });

  // Newcomer pass: 'Waiting (--task-id, --submit, --retry; the last two also --demo)' read as
  // --submit and --retry going with --demo, and 'With --list-tasks (and --watch)' put --limit
  // and --offset with --watch, which refuses them (exit 2).
  it("--help's group headings say which flags go with which action, as the usage errors do", () => {
    const help = printed(['--help']).replace(/\s+/g, ' ');
    expect(help).toContain(
      'Waiting (with --task-id, --submit or --retry; --poll-interval and --timeout also with --demo; --timeout also without --wait, and with --stats, --list-tasks, --health, --cleanup and --cancel):',
    );
    expect(help).toContain('With --list-tasks (--status also with --watch):');
    expect(usageError(['watch', '--limit', '5']).message).toBe(
      '--limit goes with --list-tasks, not --watch',
    );
    expect(usageError(['submit', 'api/x', '--demo']).message).toMatch(/one action/);
  });

  it('-V and --version print the package version, as proxy-server does', () => {
    expect(printed(['--version']).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(printed(['-V'])).toBe(printed(['--version']));
  });

  it('--help lists the commands, each the alias of a flag', () => {
    const help = printed(['--help']);
    for (const line of [
      /^ {2}stats +same as --stats$/m,
      /^ {2}health +same as --health$/m,
      /^ {2}list\|list-tasks +same as --list-tasks$/m,
      /^ {2}task <id> +same as --task-id <id>$/m,
      /^ {2}wait <id> +same as --task-id <id> --wait$/m,
      /^ {2}submit <path> +same as --submit <path>$/m,
      /^ {2}cleanup \[hours\] +same as --cleanup \[hours\]$/m,
      /^ {2}demo \[name\] +same as --demo \[name\]$/m,
      /^ {2}cancel <id> +same as --cancel <id>$/m,
      /^ {2}retry <id> +same as --retry <id>$/m,
      /^ {2}watch +same as --watch$/m,
      /^ {2}completion <shell> +print the shell completion script/m,
    ]) {
      expect(help).toMatch(line);
    }
    expect(printed(['help', 'wait'])).toMatch(/^Usage: proxy-cli wait \[options\] <id>/);
  });

  it('completion <shell> prints a script for that shell and runs nothing', () => {
    const bash = printed(['completion', 'bash']);
    expect(bash).toContain('complete -F _proxy_cli proxy-cli');
    expect(bash).toMatch(/--priority\)\n\s+COMPREPLY=\(\$\(compgen -W "high normal low"/);
    for (const word of [
      '--cancel',
      '--retry',
      '--watch',
      '--idempotency-key',
      'cancel retry watch',
    ]) {
      expect(bash).toContain(word);
    }
    expect(printed(['completion', 'zsh'])).toMatch(/^#compdef proxy-cli\n/);
    expect(printed(['completion', 'fish'])).toContain('complete -c proxy-cli -f');
  });
});
